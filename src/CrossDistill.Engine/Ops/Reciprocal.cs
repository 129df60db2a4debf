using System.Runtime.Intrinsics;
using CrossDistill.Engine.Kernels;

namespace CrossDistill.Engine.Kernels
{
    public struct ReciprocalOperator : IUnaryOperator
    {
        public float Invoke(float x) => 1f / x;
        public Vector256<float> Invoke(Vector256<float> x) => Vector256<float>.One / x;
        public Vector512<float> Invoke(Vector512<float> x) => Vector512<float>.One / x;
    }
}

namespace CrossDistill.Engine
{
    public static partial class Torch
    {
        public static Tensor Reciprocal(Tensor x)
        {
            var y = Elementwise.Map(new ReciprocalOperator(), x);
            // d(1/x) = -1/x² = -y²
            return Autograd.Record(y, "ReciprocalBackward", new[] { x }, g =>
            {
                var yd = y.Detach();
                return new[] { Neg(Mul(g, Mul(yd, yd))) };
            });
        }
    }
}
