using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace CrossDistill.Engine.Kernels;

/// <summary>
/// Unpacked SGEMM for problems too small (or too thin) to repay packing: when op(B)'s rows are
/// contiguous, each C row is a sum of B rows scaled by A entries (vectorised along n); otherwise
/// each C element is a dot product along k (vectorised along k), with any strided operand gathered
/// into a contiguous line first.
/// </summary>
internal static unsafe class GemmDirect
{
    private const int ChunkColumns = 64;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(in GemmProblem p, int rowStart, int rowEnd, int colStart, int colEnd)
    {
        var writeBack = new GemmWriteBack(p.Alpha, p.Beta, finishes: true, p.Epilogue);
        int k = p.K;
        bool rowsOfB = p.BColStride == 1 && colEnd - colStart >= 16;
        // Scratch: one chunk of accumulators, one gathered A row, and the gathered B columns.
        long bColumns = rowsOfB || p.BRowStride == 1 ? 0 : (long)(colEnd - colStart) * k;
        float* acc = GemmBuffers.Scratch(ChunkColumns + k + bColumns + 16);
        float* aLine = acc + ChunkColumns;
        float* bGathered = aLine + k;
        if (rowsOfB)
        {
            for (int i = rowStart; i < rowEnd; i++)
            {
                float* aRow = p.A + i * p.ARowStride;
                for (int j0 = colStart; j0 < colEnd; j0 += ChunkColumns)
                {
                    int width = Math.Min(ChunkColumns, colEnd - j0);
                    ScaledRowSum(aRow, p.AColStride, p.B + j0, p.BRowStride, k, width, acc);
                    writeBack.Row(acc, p.C + i * p.Ldc + j0, width, i, j0);
                }
            }
            return;
        }

        // Dot-product form: B(·, j) must be contiguous along k.
        float* bBase;
        long bLineStride;
        if (p.BRowStride == 1)
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
            for (int j0 = colStart; j0 < colEnd; j0 += ChunkColumns)
            {
                int width = Math.Min(ChunkColumns, colEnd - j0);
                for (int jj = 0; jj < width; jj++) acc[jj] = Dot(aRow, bBase + (j0 - colStart + jj) * bLineStride, k);
                writeBack.Row(acc, p.C + i * p.Ldc + j0, width, i, j0);
            }
        }
    }

    private static void Gather(float* src, long stride, int count, float* dst)
    {
        for (int p = 0; p < count; p++) dst[p] = src[p * stride];
    }

    /// <summary>acc[j] = Σₚ a[p·aStride] · b[p·bStride + j] for j &lt; width (≤ 64).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ScaledRowSum(float* a, long aStride, float* b, long bStride, int k, int width, float* acc)
    {
        int j = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            if (width == 64)
            {
                Vector512<float> s0 = default, s1 = default, s2 = default, s3 = default;
                for (int p = 0; p < k; p++)
                {
                    var av = Vector512.Create(a[p * aStride]);
                    float* row = b + p * bStride;
                    s0 = Vector512.FusedMultiplyAdd(av, Vector512.Load(row), s0);
                    s1 = Vector512.FusedMultiplyAdd(av, Vector512.Load(row + 16), s1);
                    s2 = Vector512.FusedMultiplyAdd(av, Vector512.Load(row + 32), s2);
                    s3 = Vector512.FusedMultiplyAdd(av, Vector512.Load(row + 48), s3);
                }
                s0.Store(acc);
                s1.Store(acc + 16);
                s2.Store(acc + 32);
                s3.Store(acc + 48);
                return;
            }
            for (; j <= width - 16; j += 16)
            {
                Vector512<float> s = default;
                for (int p = 0; p < k; p++) s = Vector512.FusedMultiplyAdd(Vector512.Create(a[p * aStride]), Vector512.Load(b + p * bStride + j), s);
                s.Store(acc + j);
            }
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            for (; j <= width - 16; j += 16)
            {
                Vector256<float> s0 = default, s1 = default;
                for (int p = 0; p < k; p++)
                {
                    var av = Vector256.Create(a[p * aStride]);
                    float* row = b + p * bStride + j;
                    s0 = Vector256.FusedMultiplyAdd(av, Vector256.Load(row), s0);
                    s1 = Vector256.FusedMultiplyAdd(av, Vector256.Load(row + 8), s1);
                }
                s0.Store(acc + j);
                s1.Store(acc + j + 8);
            }
        }
        for (; j < width; j++)
        {
            float s = 0f;
            for (int p = 0; p < k; p++) s = MathF.FusedMultiplyAdd(a[p * aStride], b[p * bStride + j], s);
            acc[j] = s;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float Dot(float* x, float* y, int k)
    {
        int p = 0;
        float sum = 0f;
        if (Vector512.IsHardwareAccelerated && k >= 32)
        {
            Vector512<float> s0 = default, s1 = default;
            for (; p <= k - 32; p += 32)
            {
                s0 = Vector512.FusedMultiplyAdd(Vector512.Load(x + p), Vector512.Load(y + p), s0);
                s1 = Vector512.FusedMultiplyAdd(Vector512.Load(x + p + 16), Vector512.Load(y + p + 16), s1);
            }
            sum = Vector512.Sum(s0 + s1);
        }
        else if (Vector256.IsHardwareAccelerated && k >= 16)
        {
            Vector256<float> s0 = default, s1 = default;
            for (; p <= k - 16; p += 16)
            {
                s0 = Vector256.FusedMultiplyAdd(Vector256.Load(x + p), Vector256.Load(y + p), s0);
                s1 = Vector256.FusedMultiplyAdd(Vector256.Load(x + p + 8), Vector256.Load(y + p + 8), s1);
            }
            sum = Vector256.Sum(s0 + s1);
        }
        for (; p < k; p++) sum = MathF.FusedMultiplyAdd(x[p], y[p], sum);
        return sum;
    }
}
