using System.Runtime.Intrinsics;
using CrossDistill.Engine.Kernels;

namespace CrossDistill.Engine.Kernels
{
    public struct TanhOperator : IUnaryOperator
    {
        public float Invoke(float x) => SpecialFunctions.Tanh(x);
        public Vector256<float> Invoke(Vector256<float> x) => SpecialFunctions.Tanh(x);
        public Vector512<float> Invoke(Vector512<float> x) => SpecialFunctions.Tanh(x);
    }

    /// <summary>g·(1 - y²) from the output y.</summary>
    public struct TanhBackwardOperator : IBinaryOperator
    {
        public float Invoke(float g, float y) => g * (1f - y * y);
        public Vector256<float> Invoke(Vector256<float> g, Vector256<float> y) => g * (Vector256<float>.One - y * y);
        public Vector512<float> Invoke(Vector512<float> g, Vector512<float> y) => g * (Vector512<float>.One - y * y);
    }
}

namespace CrossDistill.Engine
{
    public static partial class F
    {
        public static Tensor Tanh(Tensor x) => Torch.Tanh(x);
    }

    public static partial class Torch
    {
        public static Tensor Tanh(Tensor x)
        {
            var y = Elementwise.Map(new TanhOperator(), x);
            return Autograd.Record(y, "TanhBackward", new[] { x }, g => new[] { Elementwise.Zip(new TanhBackwardOperator(), g, y) });
        }
    }

    public sealed partial class Tensor
    {
        public Tensor Tanh() => Torch.Tanh(this);
    }
}
