using System.Runtime.Intrinsics;
using CrossDistill.Engine.Kernels;

namespace CrossDistill.Engine.Kernels
{
    /// <summary>IEEE 754-2019 maximum: NaN in either input gives NaN, as torch.maximum.</summary>
    public struct MaximumOperator : IBinaryOperator
    {
        public float Invoke(float x, float y) => MathF.Max(x, y);
        public Vector256<float> Invoke(Vector256<float> x, Vector256<float> y) => Vector256.Max(x, y);
        public Vector512<float> Invoke(Vector512<float> x, Vector512<float> y) => Vector512.Max(x, y);
    }

    /// <summary>
    /// The share of g that goes to the first input of maximum(a, b) (or, swapped, to the second):
    /// all of it where a &gt; b, half on ties, none where a &lt; b. Where either is NaN neither
    /// relation holds and both inputs get g, as PyTorch's formula gives.
    /// </summary>
    public struct MaximumBackwardOperator : ITernaryOperator
    {
        public float Invoke(float a, float b, float g) => a == b ? 0.5f * g : a < b ? 0f : g;

        public Vector256<float> Invoke(Vector256<float> a, Vector256<float> b, Vector256<float> g)
        {
            var share = Vector256.ConditionalSelect(Vector256.LessThan(a, b), Vector256<float>.Zero, g);
            return Vector256.ConditionalSelect(Vector256.Equals(a, b), Vector256.Create(0.5f) * g, share);
        }

        public Vector512<float> Invoke(Vector512<float> a, Vector512<float> b, Vector512<float> g)
        {
            var share = Vector512.ConditionalSelect(Vector512.LessThan(a, b), Vector512<float>.Zero, g);
            return Vector512.ConditionalSelect(Vector512.Equals(a, b), Vector512.Create(0.5f) * g, share);
        }
    }
}

namespace CrossDistill.Engine
{
    public static partial class Torch
    {
        /// <summary>Elementwise maximum with broadcasting; on ties each input gets half the gradient.</summary>
        public static Tensor Maximum(Tensor a, Tensor b)
        {
            OpSupport.CheckBroadcast("Maximum", a, b);
            var y = Elementwise.Zip(new MaximumOperator(), a, b);
            if (!Autograd.ShouldRecord(a, b)) return y;
            return Autograd.Record(y, "MaximumBackward", new[] { a, b }, g => new[]
            {
                a.RequiresGrad ? OpSupport.ReduceTo(TernaryElementwise.Zip(new MaximumBackwardOperator(), a, b, g), a.Shape) : null,
                b.RequiresGrad ? OpSupport.ReduceTo(TernaryElementwise.Zip(new MaximumBackwardOperator(), b, a, g), b.Shape) : null,
            });
        }
    }

    public sealed partial class Tensor
    {
        public Tensor Maximum(Tensor other) => Torch.Maximum(this, other);
    }
}
