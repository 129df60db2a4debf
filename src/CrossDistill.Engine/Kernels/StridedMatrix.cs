namespace CrossDistill.Engine.Kernels;

/// <summary>
/// A rows×cols matrix anywhere in memory, described by element strides. Sgemm reads a matrix that
/// is row-major or column-major (a transposed view) with a leading dimension, so most views of
/// tensors can be handed to it as they are, with a transpose flag instead of a copy.
/// </summary>
internal readonly unsafe struct StridedMatrix
{
    public readonly nint Ptr;
    public readonly int Rows, Cols;
    public readonly long RowStride, ColStride;

    public StridedMatrix(float* ptr, int rows, int cols, long rowStride, long colStride)
    {
        Ptr = (nint)ptr;
        Rows = rows;
        Cols = cols;
        RowStride = rowStride;
        ColStride = colStride;
    }

    public float* Data => (float*)Ptr;

    public StridedMatrix Transposed => new((float*)Ptr, Cols, Rows, ColStride, RowStride);

    /// <summary>The last two dims of <paramref name="t"/> at element offset <paramref name="offset"/> from its first element.</summary>
    public static StridedMatrix LastTwoDims(Tensor t, long offset = 0)
        => new(t.DataPtr + offset, t.Shape[^2], t.Shape[^1], t.Strides[^2], t.Strides[^1]);

    /// <summary>
    /// Views <paramref name="t"/> as [product of all but the last dim, last dim] when its leading
    /// dims merge into one stride (always for a contiguous tensor); false otherwise.
    /// </summary>
    public static bool TryRows(Tensor t, out StridedMatrix matrix)
    {
        int cols = t.Rank == 0 ? 1 : t.Shape[^1];
        long colStride = t.Rank == 0 ? 1 : t.Strides[^1];
        int rows = 1;
        long rowStride = Math.Max(cols, 1), expected = -1;
        for (int d = t.Rank - 2; d >= 0; d--)
        {
            int size = t.Shape[d];
            rows *= size;
            if (size == 1) continue;
            if (expected < 0) rowStride = t.Strides[d];
            else if (t.Strides[d] != expected) { matrix = default; return false; }
            expected = (long)t.Strides[d] * size;
        }
        matrix = new StridedMatrix(t.DataPtr, rows, cols, rowStride, colStride);
        return true;
    }

    /// <summary>
    /// The pointer, transpose flag and leading dimension Sgemm takes for this matrix, when one of its
    /// dims is unit-stride and the other steps over at least a whole row (or column).
    /// </summary>
    public bool TryGemmOperand(out bool transposed, out int ld)
    {
        if (Cols <= 1 || ColStride == 1)
        {
            long rowLd = Rows <= 1 ? Math.Max(Cols, 1) : RowStride;
            if (rowLd >= Math.Max(Cols, 1) && rowLd <= int.MaxValue) { transposed = false; ld = (int)rowLd; return true; }
        }
        if (Rows <= 1 || RowStride == 1)
        {
            long colLd = Cols <= 1 ? Math.Max(Rows, 1) : ColStride;
            if (colLd >= Math.Max(Rows, 1) && colLd <= int.MaxValue) { transposed = true; ld = (int)colLd; return true; }
        }
        transposed = false;
        ld = 0;
        return false;
    }

    /// <summary>Copies the matrix into <paramref name="dst"/> as a dense row-major block.</summary>
    public void CopyTo(float* dst)
    {
        float* src = Data;
        long rs = RowStride, cs = ColStride;
        int cols = Cols;
        nint s0 = (nint)src, d0 = (nint)dst;
        Workers.For(Rows, Math.Max(1, (1 << 15) / Math.Max(cols, 1)), (start, end) =>
        {
            for (int r = start; r < end; r++)
            {
                float* s = (float*)s0 + r * rs, d = (float*)d0 + (long)r * cols;
                if (cs == 1) new ReadOnlySpan<float>(s, cols).CopyTo(new Span<float>(d, cols));
                else for (int c = 0; c < cols; c++) d[c] = s[c * cs];
            }
        });
    }
}

/// <summary>2-D products of strided matrices through <see cref="Gemm.Sgemm"/>.</summary>
internal static unsafe class MatrixProduct
{
    /// <summary>C = alpha·A·B + beta·C for row-major C with row stride <paramref name="ldc"/>.</summary>
    public static void Multiply(StridedMatrix a, StridedMatrix b, float* c, int ldc, float alpha = 1f, float beta = 0f)
    {
        if (a.Cols != b.Rows) throw new ArgumentException($"Matrix product of {a.Rows}×{a.Cols} and {b.Rows}×{b.Cols}: inner sizes differ.");
        int m = a.Rows, n = b.Cols, k = a.Cols;
        if (m == 0 || n == 0) return;
        if (k == 0)
        {
            ScaleRows(c, m, n, ldc, beta);
            return;
        }
        using var aCopy = GemmReady(ref a);
        using var bCopy = GemmReady(ref b);
        a.TryGemmOperand(out bool ta, out int lda);
        b.TryGemmOperand(out bool tb, out int ldb);
        Gemm.Sgemm(ta, tb, m, n, k, alpha, a.Data, lda, b.Data, ldb, beta, c, ldc);
    }

    /// <summary>
    /// Null when <paramref name="m"/> can go to Sgemm as it is; otherwise a dense copy that
    /// <paramref name="m"/> now points into and the caller disposes after the product.
    /// </summary>
    public static Tensor? GemmReady(ref StridedMatrix m)
    {
        if (m.TryGemmOperand(out _, out _)) return null;
        var copy = Tensor.Empty(new[] { m.Rows, m.Cols });
        m.CopyTo(copy.DataPtr);
        m = new StridedMatrix(copy.DataPtr, m.Rows, m.Cols, m.Cols, 1);
        return copy;
    }

    /// <summary>C = beta·C over an m×n block, treating beta = 0 as an overwrite (NaN-safe).</summary>
    public static void ScaleRows(float* c, int m, int n, int ldc, float beta)
    {
        for (int i = 0; i < m; i++)
        {
            var row = new Span<float>(c + (long)i * ldc, n);
            if (beta == 0f) row.Clear();
            else if (beta != 1f) for (int j = 0; j < n; j++) row[j] *= beta;
        }
    }

    /// <summary>Copies the n values at <paramref name="values"/> into each of <paramref name="rows"/> rows of a row-major block (a bias before a GEMM with beta = 1).</summary>
    public static void FillRows(float* dst, int rows, int ldDst, float* values, int n)
    {
        nint pd = (nint)dst, pv = (nint)values;
        Workers.For(rows, Math.Max(1, (1 << 15) / Math.Max(n, 1)), (start, end) =>
        {
            var src = new ReadOnlySpan<float>((float*)pv, n);
            for (int r = start; r < end; r++) src.CopyTo(new Span<float>((float*)pd + (long)r * ldDst, n));
        });
    }
}
