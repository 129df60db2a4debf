using System.Runtime.Intrinsics;
using CrossDistill.Engine.Kernels;

namespace CrossDistill.Engine.Kernels
{
    /// <summary>min(max(x + 3, 0), 6)/6.</summary>
    public struct HardsigmoidOperator : IUnaryOperator
    {
        public float Invoke(float x) => MathF.Min(MathF.Max(x + 3f, 0f), 6f) / 6f;
        public Vector256<float> Invoke(Vector256<float> x) => Vector256.Min(Vector256.Max(x + Vector256.Create(3f), Vector256<float>.Zero), Vector256.Create(6f)) / Vector256.Create(6f);
        public Vector512<float> Invoke(Vector512<float> x) => Vector512.Min(Vector512.Max(x + Vector512.Create(3f), Vector512<float>.Zero), Vector512.Create(6f)) / Vector512.Create(6f);
    }

    /// <summary>g/6 strictly inside (-3, 3), else 0.</summary>
    public struct HardsigmoidBackwardOperator : IBinaryOperator
    {
        public float Invoke(float g, float x) => x > -3f && x < 3f ? g / 6f : 0f;

        public Vector256<float> Invoke(Vector256<float> g, Vector256<float> x)
            => (g / Vector256.Create(6f)) & Vector256.GreaterThan(x, Vector256.Create(-3f)) & Vector256.LessThan(x, Vector256.Create(3f));

        public Vector512<float> Invoke(Vector512<float> g, Vector512<float> x)
            => (g / Vector512.Create(6f)) & Vector512.GreaterThan(x, Vector512.Create(-3f)) & Vector512.LessThan(x, Vector512.Create(3f));
    }
}

namespace CrossDistill.Engine
{
    public static partial class F
    {
        public static Tensor Hardsigmoid(Tensor x)
        {
            var y = Elementwise.Map(new HardsigmoidOperator(), x);
            return Autograd.Record(y, "HardsigmoidBackward", new[] { x }, g => new[] { Elementwise.Zip(new HardsigmoidBackwardOperator(), g, x) });
        }
    }
}
