using System.Runtime.Intrinsics;
using CrossDistill.Engine.Kernels;

namespace CrossDistill.Engine.Kernels
{
    public struct LeakyReluOperator : IUnaryOperator
    {
        public float Slope;
        public LeakyReluOperator(float slope) => Slope = slope;
        public float Invoke(float x) => x > 0f ? x : x * Slope;
        public Vector256<float> Invoke(Vector256<float> x) => Vector256.ConditionalSelect(Vector256.GreaterThan(x, Vector256<float>.Zero), x, x * Vector256.Create(Slope));
        public Vector512<float> Invoke(Vector512<float> x) => Vector512.ConditionalSelect(Vector512.GreaterThan(x, Vector512<float>.Zero), x, x * Vector512.Create(Slope));
    }

    /// <summary>g for x &gt; 0, else g·slope (x = 0 takes the slope, as PyTorch).</summary>
    public struct LeakyReluBackwardOperator : IBinaryOperator
    {
        public float Slope;
        public LeakyReluBackwardOperator(float slope) => Slope = slope;
        public float Invoke(float g, float x) => x > 0f ? g : g * Slope;
        public Vector256<float> Invoke(Vector256<float> g, Vector256<float> x) => Vector256.ConditionalSelect(Vector256.GreaterThan(x, Vector256<float>.Zero), g, g * Vector256.Create(Slope));
        public Vector512<float> Invoke(Vector512<float> g, Vector512<float> x) => Vector512.ConditionalSelect(Vector512.GreaterThan(x, Vector512<float>.Zero), g, g * Vector512.Create(Slope));
    }
}

namespace CrossDistill.Engine
{
    public static partial class F
    {
        public static Tensor LeakyRelu(Tensor x, float negativeSlope = 0.01f)
        {
            var y = Elementwise.Map(new LeakyReluOperator(negativeSlope), x);
            return Autograd.Record(y, "LeakyReluBackward", new[] { x }, g => new[] { Elementwise.Zip(new LeakyReluBackwardOperator(negativeSlope), g, x) });
        }
    }
}
