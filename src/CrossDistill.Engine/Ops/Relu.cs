using System.Runtime.Intrinsics;
using CrossDistill.Engine.Kernels;

namespace CrossDistill.Engine.Kernels
{
    public struct ReluOperator : IUnaryOperator
    {
        public float Invoke(float x) => x > 0f ? x : 0f;
        public Vector256<float> Invoke(Vector256<float> x) => Vector256.Max(x, Vector256<float>.Zero);
        public Vector512<float> Invoke(Vector512<float> x) => Vector512.Max(x, Vector512<float>.Zero);
    }

    /// <summary>g where the forward output was positive, else 0.</summary>
    public struct ReluBackwardOperator : IBinaryOperator
    {
        public float Invoke(float g, float y) => y > 0f ? g : 0f;
        public Vector256<float> Invoke(Vector256<float> g, Vector256<float> y) => Vector256.ConditionalSelect(Vector256.GreaterThan(y, Vector256<float>.Zero), g, Vector256<float>.Zero);
        public Vector512<float> Invoke(Vector512<float> g, Vector512<float> y) => Vector512.ConditionalSelect(Vector512.GreaterThan(y, Vector512<float>.Zero), g, Vector512<float>.Zero);
    }
}

namespace CrossDistill.Engine
{
    public static partial class F
    {
        public static Tensor Relu(Tensor x)
        {
            var y = Elementwise.Map(new ReluOperator(), x);
            return Autograd.Record(y, "ReluBackward", new[] { x }, g => new[] { Elementwise.Zip(new ReluBackwardOperator(), g, y) });
        }
    }

    public sealed partial class Tensor
    {
        public Tensor Relu() => F.Relu(this);
    }
}
