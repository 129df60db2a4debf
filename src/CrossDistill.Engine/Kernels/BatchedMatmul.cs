namespace CrossDistill.Engine.Kernels;

/// <summary>
/// Batched matrix products with broadcast batch dims, on operands of any strides: each operand's
/// last two dims go to Sgemm as a (possibly transposed) matrix, and its batch dims become a list of
/// element offsets (0 steps on broadcast dims). Shared by matmul, bmm and attention.
/// </summary>
internal static unsafe class BatchedMatmul
{
    /// <summary>
    /// c[i] = alpha·a[i]·b[i] + beta·c[i] over the batch dims of <paramref name="c"/>, a contiguous
    /// [batch…, m, n] tensor; a is [batch…, m, k] and b is [batch…, k, n], both broadcast to c's batch dims.
    /// </summary>
    public static void Run(Tensor a, Tensor b, Tensor c, float alpha = 1f, float beta = 0f)
    {
        int m = c.Shape[^2], n = c.Shape[^1], k = a.Shape[^1];
        if (!c.IsContiguous) throw new ArgumentException("BatchedMatmul writes a contiguous output.");
        if (c.Numel == 0) return;
        var batchShape = c.Shape[..^2];
        int batch = ShapeUtil.Numel(batchShape);
        if (k == 0)
        {
            MatrixProduct.ScaleRows(c.DataPtr, batch * m, n, n, beta);
            return;
        }

        var aOffsets = BatchOffsets(a, batchShape);
        var bOffsets = BatchOffsets(b, batchShape);
        using var aCopy = NeedsCopy(a) ? DenseCopy(a) : null;
        using var bCopy = NeedsCopy(b) ? DenseCopy(b) : null;
        var aSrc = aCopy ?? a;
        var bSrc = bCopy ?? b;
        if (aCopy is not null) aOffsets = BatchOffsets(aCopy, batchShape);
        if (bCopy is not null) bOffsets = BatchOffsets(bCopy, batchShape);

        var am = StridedMatrix.LastTwoDims(aSrc);
        var bm = StridedMatrix.LastTwoDims(bSrc);
        am.TryGemmOperand(out bool ta, out int lda);
        bm.TryGemmOperand(out bool tb, out int ldb);
        float* pa = aSrc.DataPtr, pb = bSrc.DataPtr, pc = c.DataPtr;
        long mn = (long)m * n;

        bool aUniform = IsArithmetic(aOffsets, out long strideA);
        bool bUniform = IsArithmetic(bOffsets, out long strideB);

        // B shared by the whole batch and A's rows continuing from one matrix to the next: one tall product.
        if (batch > 1 && bUniform && strideB == 0 && aUniform && !ta && (am.Cols <= 1 || am.ColStride == 1))
        {
            long rowStep = m == 1 ? strideA : lda;
            bool rowsContinue = m == 1 ? strideA >= k : strideA == (long)m * lda;
            if (rowsContinue && rowStep <= int.MaxValue)
            {
                Gemm.Sgemm(false, tb, batch * m, n, k, alpha, pa, (int)rowStep, pb, ldb, beta, pc, n);
                return;
            }
        }
        if (aUniform && bUniform)
        {
            Gemm.SgemmBatched(ta, tb, m, n, k, alpha, pa, lda, strideA, pb, ldb, strideB, beta, pc, n, mn, batch);
            return;
        }
        for (int i = 0; i < batch; i++)
            Gemm.Sgemm(ta, tb, m, n, k, alpha, pa + aOffsets[i], lda, pb + bOffsets[i], ldb, beta, pc + i * mn, n);
    }

    /// <summary>Offsets (in elements) of the matrices of <paramref name="t"/> for each index of the broadcast batch.</summary>
    public static long[] BatchOffsets(Tensor t, int[] batchShape)
    {
        int rank = batchShape.Length, lead = rank - (t.Rank - 2);
        if (lead < 0) throw new ArgumentException($"Cannot broadcast {ShapeUtil.Format(t.Shape)} to batch {ShapeUtil.Format(batchShape)}.");
        var strides = new long[rank];
        for (int d = lead; d < rank; d++)
        {
            int own = t.Shape[d - lead];
            if (own == batchShape[d]) strides[d] = own == 1 ? 0 : t.Strides[d - lead];
            else if (own == 1) strides[d] = 0;
            else throw new ArgumentException($"Cannot broadcast {ShapeUtil.Format(t.Shape)} to batch {ShapeUtil.Format(batchShape)}.");
        }
        int count = ShapeUtil.Numel(batchShape);
        var offsets = new long[count];
        var index = new int[rank];
        long offset = 0;
        for (int i = 0; i < count; i++)
        {
            offsets[i] = offset;
            for (int d = rank - 1; d >= 0; d--)
            {
                offset += strides[d];
                if (++index[d] < batchShape[d]) break;
                offset -= strides[d] * batchShape[d];
                index[d] = 0;
            }
        }
        return offsets;
    }

    private static bool IsArithmetic(long[] offsets, out long step)
    {
        step = offsets.Length > 1 ? offsets[1] - offsets[0] : 0;
        if (offsets.Length > 0 && offsets[0] != 0) return false;
        for (int i = 2; i < offsets.Length; i++)
            if (offsets[i] - offsets[i - 1] != step) return false;
        return true;
    }

    private static bool NeedsCopy(Tensor t) => !StridedMatrix.LastTwoDims(t).TryGemmOperand(out _, out _);

    private static Tensor DenseCopy(Tensor t)
    {
        using var detached = t.Detach();
        return detached.Contiguous();
    }
}
