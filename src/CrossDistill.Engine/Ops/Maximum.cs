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
        public static Tensor Maximum(Tensor a, Tensor b) => Extremum("Maximum", new MaximumOperator(), a, b, larger: true);

        /// <summary>
        /// maximum or minimum with broadcasting and their shared gradient rule: one backward operator
        /// gives the winner's share, so minimum asks it with the inputs swapped (a's share of
        /// minimum(a, b) is b's share of maximum(b, a): all where a &lt; b, half on ties, g on NaN).
        /// </summary>
        internal static Tensor Extremum<TOperator>(string name, TOperator op, Tensor a, Tensor b, bool larger)
            where TOperator : struct, IBinaryOperator
        {
            OpSupport.CheckBroadcast(name, a, b);
            var y = Elementwise.Zip(op, a, b);
            if (!Autograd.ShouldRecord(a, b)) return y;
            Tensor Share(Tensor self, Tensor other, Tensor g) =>
                OpSupport.ReduceTo(larger ? TernaryElementwise.Zip(new MaximumBackwardOperator(), self, other, g)
                                          : TernaryElementwise.Zip(new MaximumBackwardOperator(), other, self, g), self.Shape);
            return Autograd.Record(y, name + "Backward", new[] { a, b }, g => new[]
            {
                a.RequiresGrad ? Share(a, b, g) : null,
                b.RequiresGrad ? Share(b, a, g) : null,
            });
        }
    }

    public sealed partial class Tensor
    {
        public Tensor Maximum(Tensor other) => Torch.Maximum(this, other);
    }
}
