using System.Runtime.Intrinsics;
using CrossDistill.Engine.Kernels;

namespace CrossDistill.Engine.Kernels
{
    public struct AbsOperator : IUnaryOperator
    {
        public float Invoke(float x) => MathF.Abs(x);
        public Vector256<float> Invoke(Vector256<float> x) => Vector256.Abs(x);
        public Vector512<float> Invoke(Vector512<float> x) => Vector512.Abs(x);
    }

    /// <summary>g·sign(x): the subgradient 0 at x = 0, as PyTorch.</summary>
    public struct AbsBackwardOperator : IBinaryOperator
    {
        public float Invoke(float g, float x) => x > 0f ? g : x < 0f ? -g : 0f;
        public Vector256<float> Invoke(Vector256<float> g, Vector256<float> x) => g * new SignOperator().Invoke(x);
        public Vector512<float> Invoke(Vector512<float> g, Vector512<float> x) => g * new SignOperator().Invoke(x);
    }
}

namespace CrossDistill.Engine
{
    public static partial class Torch
    {
        public static Tensor Abs(Tensor x)
        {
            var y = Elementwise.Map(new AbsOperator(), x);
            return Autograd.Record(y, "AbsBackward", new[] { x }, g => new[] { Elementwise.Zip(new AbsBackwardOperator(), g, x) });
        }
    }

    public sealed partial class Tensor
    {
        public Tensor Abs() => Torch.Abs(this);
    }
}
