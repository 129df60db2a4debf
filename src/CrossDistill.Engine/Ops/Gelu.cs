using System.Runtime.Intrinsics;
using CrossDistill.Engine.Kernels;

namespace CrossDistill.Engine.Kernels
{
    /// <summary>The exact GELU x·Φ(x), Φ from erfc in double (see <see cref="SpecialFunctions.Gelu(float)"/>).</summary>
    public struct GeluOperator : IUnaryOperator
    {
        public float Invoke(float x) => SpecialFunctions.Gelu(x);
        public Vector256<float> Invoke(Vector256<float> x) => SpecialFunctions.Gelu(x);
        public Vector512<float> Invoke(Vector512<float> x) => SpecialFunctions.Gelu(x);
    }

    /// <summary>g·(Φ(x) + x·φ(x)) in one pass.</summary>
    public struct GeluBackwardOperator : IBinaryOperator
    {
        public float Invoke(float g, float x) => g * SpecialFunctions.GeluDerivative(x);
        public Vector256<float> Invoke(Vector256<float> g, Vector256<float> x) => g * SpecialFunctions.GeluDerivative(x);
        public Vector512<float> Invoke(Vector512<float> g, Vector512<float> x) => g * SpecialFunctions.GeluDerivative(x);
    }

    /// <summary>
    /// The tanh GELU ½x(1 + tanh u), u = √(2/π)(x + 0.044715x³), written as x·σ(2u) since
    /// ½(1 + tanh u) = σ(2u): one exponential, and no cancellation in 1 + tanh u for negative x.
    /// </summary>
    public struct GeluTanhOperator : IUnaryOperator
    {
        internal const float Beta = 0.7978845608028654f;   // √(2/π)
        internal const float Kappa = 0.044715f;

        public float Invoke(float x)
        {
            float u2 = -2f * Beta * (x + Kappa * x * x * x);
            return x / (1f + MathF.Exp(u2));
        }

        public Vector256<float> Invoke(Vector256<float> x)
        {
            var u2 = Vector256.Create(-2f * Beta) * (x + Vector256.Create(Kappa) * x * x * x);
            return x / (Vector256<float>.One + Vector256.Exp(u2));
        }

        public Vector512<float> Invoke(Vector512<float> x)
        {
            var u2 = Vector512.Create(-2f * Beta) * (x + Vector512.Create(Kappa) * x * x * x);
            return x / (Vector512<float>.One + Vector512.Exp(u2));
        }
    }

    /// <summary>
    /// g·d/dx[x·σ(2u)] = g·(s + 2x·s(1-s)·u'), s = σ(2u), u' = √(2/π)(1 + 3·0.044715x²): PyTorch's
    /// ½(1 + tanh u) + ½x(1 - tanh²u)u' rewritten through s, in one pass.
    /// </summary>
    public struct GeluTanhBackwardOperator : IBinaryOperator
    {
        private const float Beta = GeluTanhOperator.Beta, Kappa = GeluTanhOperator.Kappa;

        public float Invoke(float g, float x)
        {
            float x2 = x * x;
            float s = 1f / (1f + MathF.Exp(-2f * Beta * (x + Kappa * x2 * x)));
            float du = Beta * (1f + 3f * Kappa * x2);
            return g * (s + 2f * x * s * (1f - s) * du);
        }

        public Vector256<float> Invoke(Vector256<float> g, Vector256<float> x)
        {
            var one = Vector256<float>.One;
            var x2 = x * x;
            var s = one / (one + Vector256.Exp(Vector256.Create(-2f * Beta) * (x + Vector256.Create(Kappa) * x2 * x)));
            var du = Vector256.Create(Beta) * (one + Vector256.Create(3f * Kappa) * x2);
            return g * (s + (x + x) * s * (one - s) * du);
        }

        public Vector512<float> Invoke(Vector512<float> g, Vector512<float> x)
        {
            var one = Vector512<float>.One;
            var x2 = x * x;
            var s = one / (one + Vector512.Exp(Vector512.Create(-2f * Beta) * (x + Vector512.Create(Kappa) * x2 * x)));
            var du = Vector512.Create(Beta) * (one + Vector512.Create(3f * Kappa) * x2);
            return g * (s + (x + x) * s * (one - s) * du);
        }
    }
}

namespace CrossDistill.Engine
{
    public static partial class F
    {
        /// <summary>GELU: "none" is the exact x·Φ(x) (erf form), "tanh" the tanh approximation.</summary>
        public static Tensor Gelu(Tensor x, string approximate = "none")
        {
            switch (approximate)
            {
                case "none":
                {
                    var y = Elementwise.Map(new GeluOperator(), x);
                    return Autograd.Record(y, "GeluBackward", new[] { x }, g => new[] { Elementwise.Zip(new GeluBackwardOperator(), g, x) });
                }
                case "tanh":
                {
                    var y = Elementwise.Map(new GeluTanhOperator(), x);
                    return Autograd.Record(y, "GeluBackward", new[] { x }, g => new[] { Elementwise.Zip(new GeluTanhBackwardOperator(), g, x) });
                }
                default:
                    throw new ArgumentException($"Gelu: approximate must be \"none\" or \"tanh\", got \"{approximate}\".", nameof(approximate));
            }
        }
    }
}
