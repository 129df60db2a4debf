using CrossDistill.Engine.Kernels;

namespace CrossDistill.Engine
{
    public static unsafe partial class Torch
    {
        /// <summary>
        /// torch.matmul: the dot product of two vectors, matrix-vector and vector-matrix products
        /// (a 1-d operand gets a size-1 dim that is removed again), and batched matrix products whose
        /// batch dims broadcast.
        /// </summary>
        public static Tensor Matmul(Tensor a, Tensor b)
        {
            if (a.Rank == 0 || b.Rank == 0)
                throw new ArgumentException($"Matmul: both arguments need at least one dimension, got shapes {ShapeUtil.Format(a.Shape)} and {ShapeUtil.Format(b.Shape)}.");
            if (a.Shape[^1] != b.Shape[b.Rank == 1 ? 0 : b.Rank - 2])
                throw new ArgumentException($"Matmul: shapes {ShapeUtil.Format(a.Shape)} and {ShapeUtil.Format(b.Shape)} cannot be multiplied ({a.Shape[^1]} vs {b.Shape[b.Rank == 1 ? 0 : b.Rank - 2]}).");
            if (a.Rank >= 2 && b.Rank >= 2) return MatrixProductOp(a, b, "MatmulBackward", "Matmul");

            // The promoted views and the product stay alive: they are links of the autograd graph.
            var a2 = a.Rank == 1 ? a.Unsqueeze(0) : a;
            var b2 = b.Rank == 1 ? b.Unsqueeze(-1) : b;
            var product = MatrixProductOp(a2, b2, "MatmulBackward", "Matmul");
            if (a.Rank == 1 && b.Rank == 1) return product.Reshape(Array.Empty<int>());
            return product.Squeeze(a.Rank == 1 ? -2 : -1);
        }

        /// <summary>
        /// The recorded product of two tensors of rank ≥ 2: [batch…, m, k]·[batch…, k, n] with the
        /// batch dims broadcast, into a contiguous [batch…, m, n].
        /// </summary>
        internal static Tensor MatrixProductOp(Tensor a, Tensor b, string nodeName, string opName)
        {
            int m = a.Shape[^2], k = a.Shape[^1], n = b.Shape[^1];
            if (b.Shape[^2] != k)
                throw new ArgumentException($"{opName}: shapes {ShapeUtil.Format(a.Shape)} and {ShapeUtil.Format(b.Shape)} cannot be multiplied ({k} vs {b.Shape[^2]}).");
            int[] batch;
            try { batch = ShapeUtil.Broadcast(a.Shape.AsSpan(0, a.Rank - 2), b.Shape.AsSpan(0, b.Rank - 2)); }
            catch (ArgumentException e) { throw new ArgumentException($"{opName}: the batch dims of {ShapeUtil.Format(a.Shape)} and {ShapeUtil.Format(b.Shape)} do not broadcast. {e.Message}"); }

            var c = Tensor.Empty([.. batch, m, n]);
            BatchedMatmul.Run(a, b, c);
            if (!Autograd.ShouldRecord(a, b)) return c;
            int[] aShape = a.Shape, bShape = b.Shape;
            return Autograd.Record(c, nodeName, new[] { a, b }, g => new[]
            {
                a.RequiresGrad ? MatmulGradA(g, b, aShape, batch) : null,
                b.RequiresGrad ? MatmulGradB(g, a, bShape, batch) : null,
            });
        }

        /// <summary>dA = g·Bᵀ, summed over the batch dims A was broadcast along.</summary>
        private static Tensor MatmulGradA(Tensor g, Tensor b, int[] aShape, int[] batch)
        {
            using var bt = b.Transpose(-1, -2);
            var full = Tensor.Empty([.. batch, aShape[^2], aShape[^1]]);
            BatchedMatmul.Run(g, bt, full);
            return SumToAndRelease(full, aShape);
        }

        /// <summary>dB = Aᵀ·g, summed over the batch dims B was broadcast along.</summary>
        private static Tensor MatmulGradB(Tensor g, Tensor a, int[] bShape, int[] batch)
        {
            int k = bShape[^2], n = bShape[^1];
            int batchCount = ShapeUtil.Numel(batch);
            bool bShared = ShapeUtil.Numel(bShape.AsSpan(0, bShape.Length - 2)) == 1;
            bool aFull = ShapeUtil.Numel(a.Shape.AsSpan(0, a.Rank - 2)) == batchCount;
            if (batchCount > 1 && bShared && aFull)
            {
                // One product over all rows of the batch: [k, batch·m]·[batch·m, n].
                using var aRows = a.Reshape(-1, k);
                using var gRows = g.Reshape(-1, n);
                var grad = Tensor.Empty([k, n]);
                MatrixProduct.Multiply(StridedMatrix.LastTwoDims(aRows).Transposed, StridedMatrix.LastTwoDims(gRows), grad.DataPtr, n);
                if (bShape.Length == 2) return grad;
                using (grad) return grad.Reshape(bShape);
            }
            using var at = a.Transpose(-1, -2);
            var full = Tensor.Empty([.. batch, k, n]);
            BatchedMatmul.Run(at, g, full);
            return SumToAndRelease(full, bShape);
        }

        /// <summary><paramref name="full"/> summed down to <paramref name="shape"/>, disposing <paramref name="full"/> when a new tensor was made.</summary>
        internal static Tensor SumToAndRelease(Tensor full, int[] shape)
        {
            var reduced = full.SumTo(shape);
            if (!ReferenceEquals(reduced, full)) full.Dispose();
            return reduced;
        }
    }

    public sealed partial class Tensor
    {
        /// <summary>torch.matmul(this, other).</summary>
        public Tensor Matmul(Tensor other) => Torch.Matmul(this, other);
    }
}
