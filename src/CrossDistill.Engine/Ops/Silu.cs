using System.Runtime.Intrinsics;
using CrossDistill.Engine.Kernels;

namespace CrossDistill.Engine.Kernels
{
    /// <summary>x·σ(x) as x/(1 + e⁻ˣ).</summary>
    public struct SiluOperator : IUnaryOperator
    {
        public float Invoke(float x) => x / (1f + MathF.Exp(-x));
        public Vector256<float> Invoke(Vector256<float> x) => x / (Vector256<float>.One + Vector256.Exp(-x));
        public Vector512<float> Invoke(Vector512<float> x) => x / (Vector512<float>.One + Vector512.Exp(-x));
    }

    /// <summary>g·σ(x)(1 + x(1 - σ(x))).</summary>
    public struct SiluBackwardOperator : IBinaryOperator
    {
        public float Invoke(float g, float x)
        {
            float s = 1f / (1f + MathF.Exp(-x));
            return g * s * (1f + x * (1f - s));
        }

        public Vector256<float> Invoke(Vector256<float> g, Vector256<float> x)
        {
            var one = Vector256<float>.One;
            var s = one / (one + Vector256.Exp(-x));
            return g * s * (one + x * (one - s));
        }

        public Vector512<float> Invoke(Vector512<float> g, Vector512<float> x)
        {
            var one = Vector512<float>.One;
            var s = one / (one + Vector512.Exp(-x));
            return g * s * (one + x * (one - s));
        }
    }
}

namespace CrossDistill.Engine
{
    public static partial class F
    {
        public static Tensor Silu(Tensor x)
        {
            var y = Elementwise.Map(new SiluOperator(), x);
            return Autograd.Record(y, "SiluBackward", new[] { x }, g => new[] { Elementwise.Zip(new SiluBackwardOperator(), g, x) });
        }
    }
}
