using System.Runtime.Intrinsics;
using CrossDistill.Engine.Kernels;

namespace CrossDistill.Engine.Kernels
{
    /// <summary>1/√x computed exactly (a division), not the hardware's 12-bit estimate, to match PyTorch.</summary>
    public struct RsqrtOperator : IUnaryOperator
    {
        public float Invoke(float x) => 1f / MathF.Sqrt(x);
        public Vector256<float> Invoke(Vector256<float> x) => Vector256<float>.One / Vector256.Sqrt(x);
        public Vector512<float> Invoke(Vector512<float> x) => Vector512<float>.One / Vector512.Sqrt(x);
    }

    /// <summary>-g·y³/2, the derivative of y = x^-½ expressed through the output.</summary>
    public struct RsqrtBackwardOperator : IBinaryOperator
    {
        public float Invoke(float g, float y) => -0.5f * g * (y * y * y);
        public Vector256<float> Invoke(Vector256<float> g, Vector256<float> y) => Vector256.Create(-0.5f) * g * (y * y * y);
        public Vector512<float> Invoke(Vector512<float> g, Vector512<float> y) => Vector512.Create(-0.5f) * g * (y * y * y);
    }
}

namespace CrossDistill.Engine
{
    public static partial class Torch
    {
        public static Tensor Rsqrt(Tensor x)
        {
            var y = Elementwise.Map(new RsqrtOperator(), x);
            return Autograd.Record(y, "RsqrtBackward", new[] { x }, g => new[] { Elementwise.Zip(new RsqrtBackwardOperator(), g, y) });
        }
    }

    public sealed partial class Tensor
    {
        public Tensor Rsqrt() => Torch.Rsqrt(this);
    }
}
