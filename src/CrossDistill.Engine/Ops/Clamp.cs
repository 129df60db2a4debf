using System.Runtime.Intrinsics;
using CrossDistill.Engine.Kernels;

namespace CrossDistill.Engine.Kernels
{
    /// <summary>min(max(x, lo), hi): NaN stays NaN, and lo &gt; hi gives hi everywhere, as torch.clamp.</summary>
    public struct ClampOperator : IUnaryOperator
    {
        public float Low, High;
        public ClampOperator(float low, float high) { Low = low; High = high; }
        public float Invoke(float x) => MathF.Min(MathF.Max(x, Low), High);
        public Vector256<float> Invoke(Vector256<float> x) => Vector256.Min(Vector256.Max(x, Vector256.Create(Low)), Vector256.Create(High));
        public Vector512<float> Invoke(Vector512<float> x) => Vector512.Min(Vector512.Max(x, Vector512.Create(Low)), Vector512.Create(High));
    }

    /// <summary>g where lo ≤ x ≤ hi (bounds included, as PyTorch's subgradient), else 0.</summary>
    public struct ClampBackwardOperator : IBinaryOperator
    {
        public float Low, High;
        public ClampBackwardOperator(float low, float high) { Low = low; High = high; }
        public float Invoke(float g, float x) => x >= Low && x <= High ? g : 0f;

        public Vector256<float> Invoke(Vector256<float> g, Vector256<float> x)
            => g & Vector256.GreaterThanOrEqual(x, Vector256.Create(Low)) & Vector256.LessThanOrEqual(x, Vector256.Create(High));

        public Vector512<float> Invoke(Vector512<float> g, Vector512<float> x)
            => g & Vector512.GreaterThanOrEqual(x, Vector512.Create(Low)) & Vector512.LessThanOrEqual(x, Vector512.Create(High));
    }
}

namespace CrossDistill.Engine
{
    public static partial class Torch
    {
        /// <summary>Limits x to [min, max]; a null bound is open. At least one bound is needed.</summary>
        public static Tensor Clamp(Tensor x, float? min, float? max)
        {
            if (min is null && max is null) throw new ArgumentException("Clamp: at least one of 'min' and 'max' must be given.", nameof(min));
            float lo = min ?? float.NegativeInfinity, hi = max ?? float.PositiveInfinity;
            var y = Elementwise.Map(new ClampOperator(lo, hi), x);
            return Autograd.Record(y, "ClampBackward", new[] { x }, g => new[] { Elementwise.Zip(new ClampBackwardOperator(lo, hi), g, x) });
        }
    }

    public sealed partial class Tensor
    {
        public Tensor Clamp(float? min, float? max) => Torch.Clamp(this, min, max);
    }
}
