using System.Runtime.Intrinsics;
using CrossDistill.Engine.Kernels;

namespace CrossDistill.Engine.Kernels
{
    /// <summary>Maximum reduction that propagates NaN (IEEE maximum), as torch.max/amax.</summary>
    public struct NanMaxReduce : IReduceOperator
    {
        public float Identity => float.NegativeInfinity;
        public float Invoke(float x, float y) => MathF.Max(x, y);
        public Vector512<float> Invoke(Vector512<float> x, Vector512<float> y) => Vector512.Max(x, y);
        public float Horizontal(Vector512<float> x)
        {
            var h = Vector256.Max(x.GetLower(), x.GetUpper());
            float m = h[0];
            for (int i = 1; i < 8; i++) m = MathF.Max(m, h[i]);
            return m;
        }
    }

    /// <summary>1 where x is NaN, else 0.</summary>
    public struct IsNanOperator : IUnaryOperator
    {
        public float Invoke(float x) => float.IsNaN(x) ? 1f : 0f;
        public Vector256<float> Invoke(Vector256<float> x) => Vector256.IsNaN(x) & Vector256<float>.One;
        public Vector512<float> Invoke(Vector512<float> x) => Vector512.IsNaN(x) & Vector512<float>.One;
    }
}

namespace CrossDistill.Engine
{
    public static partial class Torch
    {
        /// <summary>The largest element (NaN if any is NaN) as a 0-d tensor; the gradient is shared evenly among all elements equal to it.</summary>
        public static Tensor Max(Tensor x) => Extreme(new NanMaxReduce(), x, "Max");

        /// <summary>Largest values along <paramref name="dim"/> and the (first) index of each; the gradient goes to that index.</summary>
        public static (Tensor Values, Tensor Indices) Max(Tensor x, int dim, bool keepDim = false)
        {
            var (values, indices) = SelectAlongDim(new ArgMaxComparer(), "Max", x, dim, keepDim, withValues: true);
            return (values!, indices);
        }

        /// <summary>The full reduction behind <see cref="Max(Tensor)"/> and <see cref="Min(Tensor)"/>.</summary>
        internal static unsafe Tensor Extreme<TOp>(TOp op, Tensor x, string name) where TOp : struct, IReduceOperator
        {
            if (x.DType != DType.Float32) throw new ArgumentException($"{name}: needs a float tensor, got {x.DType}.", nameof(x));
            if (x.Numel == 0) throw new ArgumentException($"{name}: cannot reduce an empty tensor of shape {ShapeUtil.Format(x.Shape)}.", nameof(x));
            var y = Reduction.Reduce(op, x, Reduction.ReducedMask(x.Rank, null), keepDim: false);
            return Autograd.Record(y, name + "Backward", new[] { x }, g =>
            {
                float value = y.Item();
                var ties = float.IsNaN(value) ? Elementwise.Map(new IsNanOperator(), x) : Elementwise.Map(new CompareScalarOperator(Relation.Equal, value), x);
                double count = RowKernels.Sum(ties.DataPtr, ties.Numel);
                return new[] { ties.MulInPlace((float)(g.Item() / count)) };
            });
        }

        /// <summary>The arg-reduction behind Max/Min along a dim and Argmax/Argmin.</summary>
        internal static unsafe (Tensor? Values, Tensor Indices) SelectAlongDim<TCmp>(TCmp cmp, string name, Tensor x, int dim, bool keepDim, bool withValues)
            where TCmp : struct, IArgComparer
        {
            if (x.DType != DType.Float32) throw new ArgumentException($"{name}: needs a float tensor, got {x.DType}.", nameof(x));
            int d = OpSupport.Dim(name, dim, x);
            if (x.Rank > 0 && x.Shape[d] == 0)
                throw new ArgumentException($"{name}: cannot reduce over dim {dim} of size 0 (shape {ShapeUtil.Format(x.Shape)}).", nameof(dim));
            using var dense = DenseLayout.Handle(x);
            var s = DimSlices.Of(dense, d);
            var keepShape = (int[])x.Shape.Clone();
            if (x.Rank > 0) keepShape[d] = 1;
            var values = withValues ? Tensor.Empty((int[])keepShape.Clone(), (int[])s.KeepStrides.Clone()) : null;
            var indices = Tensor.Empty((int[])keepShape.Clone(), (int[])s.KeepStrides.Clone(), DType.Int64);
            if (indices.Numel > 0) ArgReduction.Run(cmp, dense.DataPtr, s, values is null ? null : values.DataPtr, indices.LongPtr);

            bool record = values is not null && Autograd.ShouldRecord(x);
            var savedIndices = record ? indices.Detach() : null;
            if (!keepDim && x.Rank > 0)
            {
                indices = SqueezeOwned(indices, d);
                if (values is not null) values = SqueezeOwned(values, d);
            }
            if (!record) return (values, indices);
            var inputShape = x.Shape;
            var recorded = Autograd.Record(values!, name + "Backward", new[] { x }, g => new[] { ArgReduction.ScatterGradient(g, savedIndices!, inputShape, s) });
            return (recorded, indices);
        }

        private static Tensor SqueezeOwned(Tensor t, int dim)
        {
            var squeezed = t.Squeeze(dim);
            t.Dispose();
            return squeezed;
        }
    }

    public sealed partial class Tensor
    {
        public Tensor Max() => Torch.Max(this);
        public (Tensor Values, Tensor Indices) Max(int dim, bool keepDim = false) => Torch.Max(this, dim, keepDim);
    }
}
