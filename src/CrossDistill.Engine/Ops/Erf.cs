using System.Runtime.Intrinsics;
using CrossDistill.Engine.Kernels;

namespace CrossDistill.Engine.Kernels
{
    public struct ErfOperator : IUnaryOperator
    {
        public float Invoke(float x) => SpecialFunctions.Erf(x);
        public Vector256<float> Invoke(Vector256<float> x) => SpecialFunctions.Erf(x);
        public Vector512<float> Invoke(Vector512<float> x) => SpecialFunctions.Erf(x);
    }

    /// <summary>g·2/√π·exp(-x²).</summary>
    public struct ErfBackwardOperator : IBinaryOperator
    {
        private const float TwoOverSqrtPi = 1.1283791670955126f;
        public float Invoke(float g, float x) => g * TwoOverSqrtPi * MathF.Exp(-x * x);
        public Vector256<float> Invoke(Vector256<float> g, Vector256<float> x) => g * Vector256.Create(TwoOverSqrtPi) * Vector256.Exp(-(x * x));
        public Vector512<float> Invoke(Vector512<float> g, Vector512<float> x) => g * Vector512.Create(TwoOverSqrtPi) * Vector512.Exp(-(x * x));
    }
}

namespace CrossDistill.Engine
{
    public static partial class Torch
    {
        /// <summary>The error function, accurate to about 1e-10 before rounding to float.</summary>
        public static Tensor Erf(Tensor x)
        {
            var y = Elementwise.Map(new ErfOperator(), x);
            return Autograd.Record(y, "ErfBackward", new[] { x }, g => new[] { Elementwise.Zip(new ErfBackwardOperator(), g, x) });
        }
    }

    public sealed partial class Tensor
    {
        public Tensor Erf() => Torch.Erf(this);
    }
}
