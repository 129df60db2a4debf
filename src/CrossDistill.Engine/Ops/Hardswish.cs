using System.Runtime.Intrinsics;
using CrossDistill.Engine.Kernels;

namespace CrossDistill.Engine.Kernels
{
    /// <summary>x·min(max(x + 3, 0), 6)/6.</summary>
    public struct HardswishOperator : IUnaryOperator
    {
        public float Invoke(float x) => x * MathF.Min(MathF.Max(x + 3f, 0f), 6f) / 6f;
        public Vector256<float> Invoke(Vector256<float> x) => x * Vector256.Min(Vector256.Max(x + Vector256.Create(3f), Vector256<float>.Zero), Vector256.Create(6f)) / Vector256.Create(6f);
        public Vector512<float> Invoke(Vector512<float> x) => x * Vector512.Min(Vector512.Max(x + Vector512.Create(3f), Vector512<float>.Zero), Vector512.Create(6f)) / Vector512.Create(6f);
    }

    /// <summary>
    /// 0 for x &lt; -3, g·(x/3 + ½) for -3 ≤ x &lt; 3, g from 3 up. At x = 3 PyTorch's vectorised
    /// kernel (which handles all but the tail of a contiguous tensor) gives g and its scalar tail
    /// gives 1.5g; the vectorised choice is the one followed here, for every element.
    /// </summary>
    public struct HardswishBackwardOperator : IBinaryOperator
    {
        public float Invoke(float g, float x) => x < -3f ? 0f : x < 3f ? g * (x / 3f + 0.5f) : g;

        public Vector256<float> Invoke(Vector256<float> g, Vector256<float> x)
        {
            var middle = Vector256.ConditionalSelect(Vector256.LessThan(x, Vector256.Create(3f)), g * (x / Vector256.Create(3f) + Vector256.Create(0.5f)), g);
            return Vector256.ConditionalSelect(Vector256.LessThan(x, Vector256.Create(-3f)), Vector256<float>.Zero, middle);
        }

        public Vector512<float> Invoke(Vector512<float> g, Vector512<float> x)
        {
            var middle = Vector512.ConditionalSelect(Vector512.LessThan(x, Vector512.Create(3f)), g * (x / Vector512.Create(3f) + Vector512.Create(0.5f)), g);
            return Vector512.ConditionalSelect(Vector512.LessThan(x, Vector512.Create(-3f)), Vector512<float>.Zero, middle);
        }
    }
}

namespace CrossDistill.Engine
{
    public static partial class F
    {
        public static Tensor Hardswish(Tensor x)
        {
            var y = Elementwise.Map(new HardswishOperator(), x);
            return Autograd.Record(y, "HardswishBackward", new[] { x }, g => new[] { Elementwise.Zip(new HardswishBackwardOperator(), g, x) });
        }
    }
}
