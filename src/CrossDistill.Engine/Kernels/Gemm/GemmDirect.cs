using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CrossDistill.Engine.Kernels;

/// <summary>
/// Unpacked SGEMM for problems too small (or too thin) to repay packing. When op(B)'s rows are
/// contiguous, blocks of C rows are sums of B rows scaled by A entries (vectorised along n);
/// otherwise each C element is a dot product along k (vectorised along k), with a strided operand
/// gathered into a contiguous line first. AVX-512 masks cover the ragged ends without scalar loops.
/// </summary>
internal static unsafe class GemmDirect
{
    private const int BlockRows = 4;
    private const int BlockColumns = 32;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(in GemmProblem p, int rowStart, int rowEnd, int colStart, int colEnd)
    {
        var writeBack = new GemmWriteBack(p.Alpha, p.Beta, finishes: true, p.Epilogue);
        int k = p.K, width = colEnd - colStart;
        // Row sums need B's rows contiguous: stored so, or copied so when enough C rows share the copy.
        // Narrow C with contiguous A rows goes to dot products, which fill whole vectors. The choice
        // looks at the whole product, not this part, so every thread count sums in the same order.
        bool rowsOfB = p.BColStride == 1
            ? p.N >= 16 || p.AColStride != 1
            : p.M >= 8;
        bool gather = rowsOfB ? p.BColStride != 1 : p.BRowStride != 1;
        long gathered = gather ? (long)width * k : 0;
        float* tile = GemmBuffers.Scratch(BlockRows * BlockColumns + k + gathered + 16);
        float* aLine = tile + BlockRows * BlockColumns;
        float* bGathered = aLine + k;
        if (rowsOfB)
        {
            float* b = p.B + colStart * p.BColStride;
            long bStep = p.BRowStride;
            if (gather)
            {
                for (int j = 0; j < width; j++)
                {
                    float* column = b + j * p.BColStride;
                    for (int q = 0; q < k; q++) bGathered[(long)q * width + j] = column[q * p.BRowStride];
                }
                b = bGathered;
                bStep = width;
            }
            for (int i0 = rowStart; i0 < rowEnd; i0 += BlockRows)
            {
                int rows = Math.Min(BlockRows, rowEnd - i0);
                for (int j0 = 0; j0 < width; j0 += BlockColumns)
                {
                    int cols = Math.Min(BlockColumns, width - j0);
                    ScaledRowSums(p, i0, rows, b + j0, bStep, cols, tile);
                    writeBack.Tile(tile, BlockColumns, p.C + i0 * p.Ldc + colStart + j0, p.Ldc, rows, cols, i0, colStart + j0);
                }
            }
            return;
        }

        // Dot-product form: B(·, j) must be contiguous along k.
        float* bBase;
        long bLineStride;
        if (!gather)
        {
            bBase = p.B + colStart * p.BColStride;
            bLineStride = p.BColStride;
        }
        else
        {
            for (int j = colStart; j < colEnd; j++)
                Gather(p.B + j * p.BColStride, p.BRowStride, k, bGathered + (long)(j - colStart) * k);
            bBase = bGathered;
            bLineStride = k;
        }
        for (int i = rowStart; i < rowEnd; i++)
        {
            float* aRow = p.A + i * p.ARowStride;
            if (p.AColStride != 1)
            {
                Gather(aRow, p.AColStride, k, aLine);
                aRow = aLine;
            }
            for (int j0 = colStart; j0 < colEnd; j0 += BlockColumns)
            {
                int cols = Math.Min(BlockColumns, colEnd - j0);
                int jj = 0;
                for (; jj <= cols - 4; jj += 4) Dot4(aRow, bBase + (j0 - colStart + jj) * bLineStride, bLineStride, k, tile + jj);
                for (; jj < cols; jj++) tile[jj] = Dot(aRow, bBase + (j0 - colStart + jj) * bLineStride, k);
                writeBack.Row(tile, p.C + i * p.Ldc + j0, cols, i, j0);
            }
        }
    }

    private static void Gather(float* src, long stride, int count, float* dst)
    {
        for (int p = 0; p < count; p++) dst[p] = src[p * stride];
    }

    /// <summary>tile[r·32 + j] = Σₚ A(i0 + r, p) · b[p·bStep + j] for r &lt; rows, j &lt; cols.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ScaledRowSums(in GemmProblem p, int i0, int rows, float* b, long bStep, int cols, float* tile)
    {
        int k = p.K;
        long aStep = p.AColStride;
        // Rows past the block's end re-read row i0 (valid memory); their sums are never written back.
        float* a0 = p.A + i0 * p.ARowStride;
        float* a1 = rows > 1 ? a0 + p.ARowStride : a0;
        float* a2 = rows > 2 ? a0 + 2 * p.ARowStride : a0;
        float* a3 = rows > 3 ? a0 + 3 * p.ARowStride : a0;
        if (Avx512F.IsSupported)
        {
            var indices = Vector512<int>.Indices;
            var maskLo = Vector512.LessThan(indices, Vector512.Create(cols)).AsSingle();
            var maskHi = Vector512.LessThan(indices, Vector512.Create(cols - 16)).AsSingle();
            Vector512<float> s0 = default, s1 = default, s2 = default, s3 = default, s4 = default, s5 = default, s6 = default, s7 = default;
            for (int q = 0; q < k; q++)
            {
                float* row = b + q * bStep;
                var lo = Avx512F.MaskLoad(row, maskLo, Vector512<float>.Zero);
                var hi = Avx512F.MaskLoad(row + 16, maskHi, Vector512<float>.Zero);
                long at = q * aStep;
                var x0 = Vector512.Create(a0[at]);
                var x1 = Vector512.Create(a1[at]);
                var x2 = Vector512.Create(a2[at]);
                var x3 = Vector512.Create(a3[at]);
                s0 = Vector512.FusedMultiplyAdd(x0, lo, s0);
                s1 = Vector512.FusedMultiplyAdd(x0, hi, s1);
                s2 = Vector512.FusedMultiplyAdd(x1, lo, s2);
                s3 = Vector512.FusedMultiplyAdd(x1, hi, s3);
                s4 = Vector512.FusedMultiplyAdd(x2, lo, s4);
                s5 = Vector512.FusedMultiplyAdd(x2, hi, s5);
                s6 = Vector512.FusedMultiplyAdd(x3, lo, s6);
                s7 = Vector512.FusedMultiplyAdd(x3, hi, s7);
            }
            s0.Store(tile);
            s1.Store(tile + 16);
            s2.Store(tile + 32);
            s3.Store(tile + 48);
            s4.Store(tile + 64);
            s5.Store(tile + 80);
            s6.Store(tile + 96);
            s7.Store(tile + 112);
            return;
        }
        for (int r = 0; r < rows; r++)
        {
            float* a = r == 0 ? a0 : r == 1 ? a1 : r == 2 ? a2 : a3;
            float* acc = tile + r * BlockColumns;
            int j = 0;
            if (Vector256.IsHardwareAccelerated)
            {
                for (; j <= cols - 8; j += 8)
                {
                    Vector256<float> s = default;
                    for (int q = 0; q < k; q++) s = Vector256.FusedMultiplyAdd(Vector256.Create(a[q * aStep]), Vector256.Load(b + q * bStep + j), s);
                    s.Store(acc + j);
                }
            }
            for (; j < cols; j++)
            {
                float s = 0f;
                for (int q = 0; q < k; q++) s = MathF.FusedMultiplyAdd(a[q * aStep], b[q * bStep + j], s);
                acc[j] = s;
            }
        }
    }

    /// <summary>out[c] = x · y_c for the four lines y_c = y + c·stride, each k long.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Dot4(float* x, float* y, long stride, int k, float* result)
    {
        float* y1 = y + stride, y2 = y + 2 * stride, y3 = y + 3 * stride;
        if (Avx512F.IsSupported)
        {
            Vector512<float> s0 = default, s1 = default, s2 = default, s3 = default;
            for (int q = 0; q < k; q += 16)
            {
                var mask = Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(k - q)).AsSingle();
                var xv = Avx512F.MaskLoad(x + q, mask, Vector512<float>.Zero);
                s0 = Vector512.FusedMultiplyAdd(xv, Avx512F.MaskLoad(y + q, mask, Vector512<float>.Zero), s0);
                s1 = Vector512.FusedMultiplyAdd(xv, Avx512F.MaskLoad(y1 + q, mask, Vector512<float>.Zero), s1);
                s2 = Vector512.FusedMultiplyAdd(xv, Avx512F.MaskLoad(y2 + q, mask, Vector512<float>.Zero), s2);
                s3 = Vector512.FusedMultiplyAdd(xv, Avx512F.MaskLoad(y3 + q, mask, Vector512<float>.Zero), s3);
            }
            result[0] = Vector512.Sum(s0);
            result[1] = Vector512.Sum(s1);
            result[2] = Vector512.Sum(s2);
            result[3] = Vector512.Sum(s3);
            return;
        }
        result[0] = Dot(x, y, k);
        result[1] = Dot(x, y1, k);
        result[2] = Dot(x, y2, k);
        result[3] = Dot(x, y3, k);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float Dot(float* x, float* y, int k)
    {
        int q = 0;
        float sum = 0f;
        if (Vector256.IsHardwareAccelerated && k >= 16)
        {
            Vector256<float> s0 = default, s1 = default;
            for (; q <= k - 16; q += 16)
            {
                s0 = Vector256.FusedMultiplyAdd(Vector256.Load(x + q), Vector256.Load(y + q), s0);
                s1 = Vector256.FusedMultiplyAdd(Vector256.Load(x + q + 8), Vector256.Load(y + q + 8), s1);
            }
            sum = Vector256.Sum(s0 + s1);
        }
        for (; q < k; q++) sum = MathF.FusedMultiplyAdd(x[q], y[q], sum);
        return sum;
    }
}
