using System.Runtime.Intrinsics;
using CrossDistill.Engine.Kernels;

namespace CrossDistill.Engine.Kernels
{
    /// <summary>x for x &gt; 0, else α·(eˣ - 1) through an accurate expm1.</summary>
    public struct EluOperator : IUnaryOperator
    {
        public float Alpha;
        public EluOperator(float alpha) => Alpha = alpha;
        public float Invoke(float x) => x > 0f ? x : Alpha * SpecialFunctions.Expm1(x);
        public Vector256<float> Invoke(Vector256<float> x) => Vector256.ConditionalSelect(Vector256.GreaterThan(x, Vector256<float>.Zero), x, Vector256.Create(Alpha) * SpecialFunctions.Expm1(x));
        public Vector512<float> Invoke(Vector512<float> x) => Vector512.ConditionalSelect(Vector512.GreaterThan(x, Vector512<float>.Zero), x, Vector512.Create(Alpha) * SpecialFunctions.Expm1(x));
    }

    /// <summary>g for x &gt; 0, else g·α·eˣ.</summary>
    public struct EluBackwardOperator : IBinaryOperator
    {
        public float Alpha;
        public EluBackwardOperator(float alpha) => Alpha = alpha;
        public float Invoke(float g, float x) => x > 0f ? g : g * Alpha * MathF.Exp(x);
        public Vector256<float> Invoke(Vector256<float> g, Vector256<float> x) => Vector256.ConditionalSelect(Vector256.GreaterThan(x, Vector256<float>.Zero), g, g * Vector256.Create(Alpha) * Vector256.Exp(x));
        public Vector512<float> Invoke(Vector512<float> g, Vector512<float> x) => Vector512.ConditionalSelect(Vector512.GreaterThan(x, Vector512<float>.Zero), g, g * Vector512.Create(Alpha) * Vector512.Exp(x));
    }
}

namespace CrossDistill.Engine
{
    public static partial class F
    {
        public static Tensor Elu(Tensor x, float alpha = 1f)
        {
            var y = Elementwise.Map(new EluOperator(alpha), x);
            return Autograd.Record(y, "EluBackward", new[] { x }, g => new[] { Elementwise.Zip(new EluBackwardOperator(alpha), g, x) });
        }
    }
}
