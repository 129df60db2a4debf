using System.Runtime.Intrinsics;
using CrossDistill.Engine.Kernels;

namespace CrossDistill.Engine.Kernels
{
    public struct ExpOperator : IUnaryOperator
    {
        public float Invoke(float x) => MathF.Exp(x);
        public Vector256<float> Invoke(Vector256<float> x) => Vector256.Exp(x);
        public Vector512<float> Invoke(Vector512<float> x) => Vector512.Exp(x);
    }
}

namespace CrossDistill.Engine
{
    public static partial class Torch
    {
        public static Tensor Exp(Tensor x)
        {
            var y = Elementwise.Map(new ExpOperator(), x);
            return Autograd.Record(y, "ExpBackward", new[] { x }, g => new[] { Mul(g, y.Detach()) });
        }
    }

    public sealed partial class Tensor
    {
        public Tensor Exp() => Torch.Exp(this);
    }
}
