using System.Runtime.Intrinsics;
using CrossDistill.Engine.Kernels;

namespace CrossDistill.Engine.Kernels
{
    /// <summary>1 for x &gt; 0, -1 for x &lt; 0, 0 for ±0 and (as PyTorch's CPU kernel) for NaN.</summary>
    public struct SignOperator : IUnaryOperator
    {
        public float Invoke(float x) => x > 0f ? 1f : x < 0f ? -1f : 0f;

        public Vector256<float> Invoke(Vector256<float> x)
        {
            var one = Vector256<float>.One;
            return (Vector256.GreaterThan(x, Vector256<float>.Zero) & one) - (Vector256.LessThan(x, Vector256<float>.Zero) & one);
        }

        public Vector512<float> Invoke(Vector512<float> x)
        {
            var one = Vector512<float>.One;
            return (Vector512.GreaterThan(x, Vector512<float>.Zero) & one) - (Vector512.LessThan(x, Vector512<float>.Zero) & one);
        }
    }
}

namespace CrossDistill.Engine
{
    public static partial class Torch
    {
        /// <summary>The sign of each element; its gradient is zero everywhere, as in PyTorch.</summary>
        public static Tensor Sign(Tensor x)
        {
            var y = Elementwise.Map(new SignOperator(), x);
            var shape = x.Shape;
            return Autograd.Record(y, "SignBackward", new[] { x }, g => new[] { Zeros(shape) });
        }
    }

    public sealed partial class Tensor
    {
        public Tensor Sign() => Torch.Sign(this);
    }
}
