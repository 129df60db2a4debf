using System.Runtime.Intrinsics;
using CrossDistill.Engine.Kernels;

namespace CrossDistill.Engine.Kernels
{
    public struct SqrtOperator : IUnaryOperator
    {
        public float Invoke(float x) => MathF.Sqrt(x);
        public Vector256<float> Invoke(Vector256<float> x) => Vector256.Sqrt(x);
        public Vector512<float> Invoke(Vector512<float> x) => Vector512.Sqrt(x);
    }

    /// <summary>g / (2y), the derivative of y = √x expressed through the output.</summary>
    public struct SqrtBackwardOperator : IBinaryOperator
    {
        public float Invoke(float g, float y) => g / (y + y);
        public Vector256<float> Invoke(Vector256<float> g, Vector256<float> y) => g / (y + y);
        public Vector512<float> Invoke(Vector512<float> g, Vector512<float> y) => g / (y + y);
    }
}

namespace CrossDistill.Engine
{
    public static partial class Torch
    {
        public static Tensor Sqrt(Tensor x)
        {
            var y = Elementwise.Map(new SqrtOperator(), x);
            return Autograd.Record(y, "SqrtBackward", new[] { x }, g => new[] { Elementwise.Zip(new SqrtBackwardOperator(), g, y) });
        }
    }

    public sealed partial class Tensor
    {
        public Tensor Sqrt() => Torch.Sqrt(this);
    }
}
