using System.Runtime.Intrinsics;
using CrossDistill.Engine.Kernels;

namespace CrossDistill.Engine.Kernels
{
    /// <summary>IEEE 754-2019 minimum: NaN in either input gives NaN, as torch.minimum.</summary>
    public struct MinimumOperator : IBinaryOperator
    {
        public float Invoke(float x, float y) => MathF.Min(x, y);
        public Vector256<float> Invoke(Vector256<float> x, Vector256<float> y) => Vector256.Min(x, y);
        public Vector512<float> Invoke(Vector512<float> x, Vector512<float> y) => Vector512.Min(x, y);
    }

    /// <summary>The share of g for the first input of minimum(a, b): all where a &lt; b, half on ties, none where a &gt; b.</summary>
    public struct MinimumBackwardOperator : ITernaryOperator
    {
        public float Invoke(float a, float b, float g) => a == b ? 0.5f * g : a > b ? 0f : g;

        public Vector256<float> Invoke(Vector256<float> a, Vector256<float> b, Vector256<float> g)
        {
            var share = Vector256.ConditionalSelect(Vector256.GreaterThan(a, b), Vector256<float>.Zero, g);
            return Vector256.ConditionalSelect(Vector256.Equals(a, b), Vector256.Create(0.5f) * g, share);
        }

        public Vector512<float> Invoke(Vector512<float> a, Vector512<float> b, Vector512<float> g)
        {
            var share = Vector512.ConditionalSelect(Vector512.GreaterThan(a, b), Vector512<float>.Zero, g);
            return Vector512.ConditionalSelect(Vector512.Equals(a, b), Vector512.Create(0.5f) * g, share);
        }
    }
}

namespace CrossDistill.Engine
{
    public static partial class Torch
    {
        /// <summary>Elementwise minimum with broadcasting; on ties each input gets half the gradient.</summary>
        public static Tensor Minimum(Tensor a, Tensor b)
        {
            OpSupport.CheckBroadcast("Minimum", a, b);
            var y = Elementwise.Zip(new MinimumOperator(), a, b);
            if (!Autograd.ShouldRecord(a, b)) return y;
            return Autograd.Record(y, "MinimumBackward", new[] { a, b }, g => new[]
            {
                a.RequiresGrad ? OpSupport.ReduceTo(TernaryElementwise.Zip(new MinimumBackwardOperator(), a, b, g), a.Shape) : null,
                b.RequiresGrad ? OpSupport.ReduceTo(TernaryElementwise.Zip(new MinimumBackwardOperator(), b, a, g), b.Shape) : null,
            });
        }
    }

    public sealed partial class Tensor
    {
        public Tensor Minimum(Tensor other) => Torch.Minimum(this, other);
    }
}
