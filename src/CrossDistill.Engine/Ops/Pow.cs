using System.Runtime.Intrinsics;
using CrossDistill.Engine.Kernels;

namespace CrossDistill.Engine.Kernels
{
    public struct SquareOperator : IUnaryOperator
    {
        public float Invoke(float x) => x * x;
        public Vector256<float> Invoke(Vector256<float> x) => x * x;
        public Vector512<float> Invoke(Vector512<float> x) => x * x;
    }

    public struct CubeOperator : IUnaryOperator
    {
        public float Invoke(float x) => x * x * x;
        public Vector256<float> Invoke(Vector256<float> x) => x * x * x;
        public Vector512<float> Invoke(Vector512<float> x) => x * x * x;
    }

    public struct InverseSquareOperator : IUnaryOperator
    {
        public float Invoke(float x) => 1f / (x * x);
        public Vector256<float> Invoke(Vector256<float> x) => Vector256<float>.One / (x * x);
        public Vector512<float> Invoke(Vector512<float> x) => Vector512<float>.One / (x * x);
    }

    /// <summary>xᵉ for a fixed exponent, through <see cref="SpecialFunctions.Pow(Vector512{float}, Vector512{float})"/>.</summary>
    public struct PowScalarOperator : IUnaryOperator
    {
        public float Exponent;
        public PowScalarOperator(float exponent) => Exponent = exponent;
        public float Invoke(float x) => SpecialFunctions.Pow(x, Exponent);
        public Vector256<float> Invoke(Vector256<float> x) => SpecialFunctions.Pow(x, Vector256.Create(Exponent));
        public Vector512<float> Invoke(Vector512<float> x) => SpecialFunctions.Pow(x, Vector512.Create(Exponent));
    }

    public struct PowOperator : IBinaryOperator
    {
        public float Invoke(float x, float e) => SpecialFunctions.Pow(x, e);
        public Vector256<float> Invoke(Vector256<float> x, Vector256<float> e) => SpecialFunctions.Pow(x, e);
        public Vector512<float> Invoke(Vector512<float> x, Vector512<float> e) => SpecialFunctions.Pow(x, e);
    }

    /// <summary>g·e·xᵉ⁻¹ for a fixed exponent e ∉ {0, 1}; e = 2 stays exact as 2·g·x.</summary>
    public struct PowScalarBackwardOperator : IBinaryOperator
    {
        public float Exponent;
        public PowScalarBackwardOperator(float exponent) => Exponent = exponent;

        public float Invoke(float g, float x) => Exponent == 2f ? g * (x + x) : g * Exponent * SpecialFunctions.Pow(x, Exponent - 1f);

        public Vector256<float> Invoke(Vector256<float> g, Vector256<float> x)
            => Exponent == 2f ? g * (x + x) : g * Vector256.Create(Exponent) * SpecialFunctions.Pow(x, Vector256.Create(Exponent - 1f));

        public Vector512<float> Invoke(Vector512<float> g, Vector512<float> x)
            => Exponent == 2f ? g * (x + x) : g * Vector512.Create(Exponent) * SpecialFunctions.Pow(x, Vector512.Create(Exponent - 1f));
    }

    /// <summary>∂xᵉ/∂x·g = g·e·xᵉ⁻¹, and 0 where e = 0 (as PyTorch, even at x = 0).</summary>
    public struct PowBaseBackwardOperator : ITernaryOperator
    {
        public float Invoke(float g, float x, float e) => e == 0f ? 0f : g * e * SpecialFunctions.Pow(x, e - 1f);

        public Vector256<float> Invoke(Vector256<float> g, Vector256<float> x, Vector256<float> e)
        {
            var d = g * e * SpecialFunctions.Pow(x, e - Vector256<float>.One);
            return Vector256.ConditionalSelect(Vector256.Equals(e, Vector256<float>.Zero), Vector256<float>.Zero, d);
        }

        public Vector512<float> Invoke(Vector512<float> g, Vector512<float> x, Vector512<float> e)
        {
            var d = g * e * SpecialFunctions.Pow(x, e - Vector512<float>.One);
            return Vector512.ConditionalSelect(Vector512.Equals(e, Vector512<float>.Zero), Vector512<float>.Zero, d);
        }
    }

    /// <summary>∂xᵉ/∂e·g = g·xᵉ·log x, and 0 where x = 0 and e ≥ 0 (the limit, not 0·-∞), as PyTorch.</summary>
    public struct PowExponentBackwardOperator : ITernaryOperator
    {
        public float Invoke(float g, float x, float e) => x == 0f && e >= 0f ? 0f : g * SpecialFunctions.Pow(x, e) * MathF.Log(x);

        public Vector256<float> Invoke(Vector256<float> g, Vector256<float> x, Vector256<float> e)
        {
            var d = g * SpecialFunctions.Pow(x, e) * Vector256.Log(x);
            var limit = Vector256.Equals(x, Vector256<float>.Zero) & Vector256.GreaterThanOrEqual(e, Vector256<float>.Zero);
            return Vector256.ConditionalSelect(limit, Vector256<float>.Zero, d);
        }

        public Vector512<float> Invoke(Vector512<float> g, Vector512<float> x, Vector512<float> e)
        {
            var d = g * SpecialFunctions.Pow(x, e) * Vector512.Log(x);
            var limit = Vector512.Equals(x, Vector512<float>.Zero) & Vector512.GreaterThanOrEqual(e, Vector512<float>.Zero);
            return Vector512.ConditionalSelect(limit, Vector512<float>.Zero, d);
        }
    }
}

namespace CrossDistill.Engine
{
    public static partial class Torch
    {
        /// <summary>xᵉ elementwise. The exponents PyTorch special-cases (2, 3, ½, -½, -1, -2) use the same direct formulas.</summary>
        public static Tensor Pow(Tensor x, float exponent)
        {
            if (exponent == 0f)
            {
                var ones = FullLike(x, 1f);
                var shape = x.Shape;
                return Autograd.Record(ones, "PowBackward", new[] { x }, g => new[] { Zeros(shape) });
            }
            if (exponent == 0.5f) return Sqrt(x);
            if (exponent == -0.5f) return Rsqrt(x);
            if (exponent == -1f) return Reciprocal(x);
            var y = exponent switch
            {
                1f => Elementwise.Map(new AffineOperator(1f, 0f), x),
                2f => Elementwise.Map(new SquareOperator(), x),
                3f => Elementwise.Map(new CubeOperator(), x),
                -2f => Elementwise.Map(new InverseSquareOperator(), x),
                _ => Elementwise.Map(new PowScalarOperator(exponent), x),
            };
            return Autograd.Record(y, "PowBackward", new[] { x }, g => new[]
            {
                exponent == 1f ? g : Elementwise.Zip(new PowScalarBackwardOperator(exponent), g, x),
            });
        }

        /// <summary>xᵉ elementwise with broadcasting between the base and the exponent.</summary>
        public static Tensor Pow(Tensor x, Tensor exponent)
        {
            OpSupport.CheckBroadcast("Pow", x, exponent);
            var y = Elementwise.Zip(new PowOperator(), x, exponent);
            if (!Autograd.ShouldRecord(x, exponent)) return y;
            return Autograd.Record(y, "PowBackward", new[] { x, exponent }, g => new[]
            {
                x.RequiresGrad ? OpSupport.ReduceTo(TernaryElementwise.Zip(new PowBaseBackwardOperator(), g, x, exponent), x.Shape) : null,
                exponent.RequiresGrad ? OpSupport.ReduceTo(TernaryElementwise.Zip(new PowExponentBackwardOperator(), g, x, exponent), exponent.Shape) : null,
            });
        }
    }

    public sealed partial class Tensor
    {
        public Tensor Pow(float exponent) => Torch.Pow(this, exponent);
        public Tensor Pow(Tensor exponent) => Torch.Pow(this, exponent);
    }
}
