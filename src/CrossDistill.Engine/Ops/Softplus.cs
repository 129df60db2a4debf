using System.Runtime.Intrinsics;
using CrossDistill.Engine.Kernels;

namespace CrossDistill.Engine.Kernels
{
    /// <summary>log(1 + e^(βx))/β, or x itself once βx &gt; threshold (PyTorch's linear regime).</summary>
    public struct SoftplusOperator : IUnaryOperator
    {
        public float Beta, Threshold;
        public SoftplusOperator(float beta, float threshold) { Beta = beta; Threshold = threshold; }

        public float Invoke(float x)
        {
            float z = x * Beta;
            return z > Threshold ? x : SpecialFunctions.Log1pExp(z) / Beta;
        }

        public Vector256<float> Invoke(Vector256<float> x)
        {
            var z = x * Vector256.Create(Beta);
            return Vector256.ConditionalSelect(Vector256.GreaterThan(z, Vector256.Create(Threshold)), x, SpecialFunctions.Log1pExp(z) / Vector256.Create(Beta));
        }

        public Vector512<float> Invoke(Vector512<float> x)
        {
            var z = x * Vector512.Create(Beta);
            return Vector512.ConditionalSelect(Vector512.GreaterThan(z, Vector512.Create(Threshold)), x, SpecialFunctions.Log1pExp(z) / Vector512.Create(Beta));
        }
    }

    /// <summary>g·σ(βx), or g in the linear regime.</summary>
    public struct SoftplusBackwardOperator : IBinaryOperator
    {
        public float Beta, Threshold;
        public SoftplusBackwardOperator(float beta, float threshold) { Beta = beta; Threshold = threshold; }

        public float Invoke(float g, float x)
        {
            float z = x * Beta;
            return z > Threshold ? g : g / (1f + MathF.Exp(-z));
        }

        public Vector256<float> Invoke(Vector256<float> g, Vector256<float> x)
        {
            var z = x * Vector256.Create(Beta);
            return Vector256.ConditionalSelect(Vector256.GreaterThan(z, Vector256.Create(Threshold)), g, g / (Vector256<float>.One + Vector256.Exp(-z)));
        }

        public Vector512<float> Invoke(Vector512<float> g, Vector512<float> x)
        {
            var z = x * Vector512.Create(Beta);
            return Vector512.ConditionalSelect(Vector512.GreaterThan(z, Vector512.Create(Threshold)), g, g / (Vector512<float>.One + Vector512.Exp(-z)));
        }
    }
}

namespace CrossDistill.Engine
{
    public static partial class F
    {
        public static Tensor Softplus(Tensor x, float beta = 1f, float threshold = 20f)
        {
            var y = Elementwise.Map(new SoftplusOperator(beta, threshold), x);
            return Autograd.Record(y, "SoftplusBackward", new[] { x }, g => new[] { Elementwise.Zip(new SoftplusBackwardOperator(beta, threshold), g, x) });
        }
    }
}
