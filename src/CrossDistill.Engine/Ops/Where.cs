using System.Runtime.Intrinsics;
using CrossDistill.Engine.Kernels;

namespace CrossDistill.Engine.Kernels
{
    /// <summary>a where the condition is non-zero (NaN counts as true, as a cast to bool does), else b.</summary>
    public struct WhereOperator : ITernaryOperator
    {
        public float Invoke(float condition, float a, float b) => condition != 0f ? a : b;
        public Vector256<float> Invoke(Vector256<float> condition, Vector256<float> a, Vector256<float> b)
            => Vector256.ConditionalSelect(Vector256.Equals(condition, Vector256<float>.Zero), b, a);
        public Vector512<float> Invoke(Vector512<float> condition, Vector512<float> a, Vector512<float> b)
            => Vector512.ConditionalSelect(Vector512.Equals(condition, Vector512<float>.Zero), b, a);
    }

    /// <summary>g where the condition is true (or, with <see cref="WhenTrue"/> false, where it is false), else 0.</summary>
    public struct MaskGradientOperator : IBinaryOperator
    {
        public bool WhenTrue;
        public MaskGradientOperator(bool whenTrue) => WhenTrue = whenTrue;
        public float Invoke(float g, float condition) => (condition != 0f) == WhenTrue ? g : 0f;

        public Vector256<float> Invoke(Vector256<float> g, Vector256<float> condition)
        {
            var isFalse = Vector256.Equals(condition, Vector256<float>.Zero);
            return WhenTrue ? Vector256.ConditionalSelect(isFalse, Vector256<float>.Zero, g) : Vector256.ConditionalSelect(isFalse, g, Vector256<float>.Zero);
        }

        public Vector512<float> Invoke(Vector512<float> g, Vector512<float> condition)
        {
            var isFalse = Vector512.Equals(condition, Vector512<float>.Zero);
            return WhenTrue ? Vector512.ConditionalSelect(isFalse, Vector512<float>.Zero, g) : Vector512.ConditionalSelect(isFalse, g, Vector512<float>.Zero);
        }
    }
}

namespace CrossDistill.Engine
{
    public static partial class Torch
    {
        /// <summary>
        /// Picks a where <paramref name="condition"/> is non-zero, else b; the three broadcast
        /// together. The condition is a float mask, e.g. from <see cref="Gt(Tensor, Tensor)"/>.
        /// </summary>
        public static Tensor Where(Tensor condition, Tensor a, Tensor b)
        {
            if (condition.DType != DType.Float32)
                throw new ArgumentException($"Where: the condition must be a float 0/1 mask, got {condition.DType} of shape {ShapeUtil.Format(condition.Shape)}.", nameof(condition));
            OpSupport.CheckBroadcast("Where", condition, a, b);
            var y = TernaryElementwise.Zip(new WhereOperator(), condition, a, b);
            if (!Autograd.ShouldRecord(a, b)) return y;
            return Autograd.Record(y, "WhereBackward", new[] { a, b }, g => new[]
            {
                a.RequiresGrad ? OpSupport.ReduceTo(Elementwise.Zip(new MaskGradientOperator(true), g, condition), a.Shape) : null,
                b.RequiresGrad ? OpSupport.ReduceTo(Elementwise.Zip(new MaskGradientOperator(false), g, condition), b.Shape) : null,
            });
        }
    }
}
