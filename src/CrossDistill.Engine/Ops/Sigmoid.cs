using System.Runtime.Intrinsics;
using CrossDistill.Engine.Kernels;

namespace CrossDistill.Engine.Kernels
{
    /// <summary>1/(1 + e⁻ˣ): e⁻ˣ overflowing to ∞ for very negative x gives exactly 0, never NaN.</summary>
    public struct SigmoidOperator : IUnaryOperator
    {
        public float Invoke(float x) => 1f / (1f + MathF.Exp(-x));
        public Vector256<float> Invoke(Vector256<float> x) => Vector256<float>.One / (Vector256<float>.One + Vector256.Exp(-x));
        public Vector512<float> Invoke(Vector512<float> x) => Vector512<float>.One / (Vector512<float>.One + Vector512.Exp(-x));
    }

    /// <summary>g·y(1 - y) from the output y.</summary>
    public struct SigmoidBackwardOperator : IBinaryOperator
    {
        public float Invoke(float g, float y) => g * y * (1f - y);
        public Vector256<float> Invoke(Vector256<float> g, Vector256<float> y) => g * y * (Vector256<float>.One - y);
        public Vector512<float> Invoke(Vector512<float> g, Vector512<float> y) => g * y * (Vector512<float>.One - y);
    }
}

namespace CrossDistill.Engine
{
    public static partial class F
    {
        public static Tensor Sigmoid(Tensor x) => Torch.Sigmoid(x);
    }

    public static partial class Torch
    {
        public static Tensor Sigmoid(Tensor x)
        {
            var y = Elementwise.Map(new SigmoidOperator(), x);
            return Autograd.Record(y, "SigmoidBackward", new[] { x }, g => new[] { Elementwise.Zip(new SigmoidBackwardOperator(), g, y) });
        }
    }

    public sealed partial class Tensor
    {
        public Tensor Sigmoid() => Torch.Sigmoid(this);
    }
}
