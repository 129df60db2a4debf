using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace CrossDistill.Engine.Kernels;

/// <summary>
/// Count, mean and sum of squared deviations (M2) of a set of values. Accumulated with Welford's
/// update and merged with Chan's formula, which stays accurate in float32 where sum and sum of
/// squares would cancel (a large mean and a small spread).
/// </summary>
internal struct Moments
{
    public long Count;
    public float Mean;
    public float M2;

    public Moments(long count, float mean, float m2)
    {
        Count = count;
        Mean = mean;
        M2 = m2;
    }

    public readonly float BiasedVariance => M2 / Count;

    public static Moments Merge(Moments a, Moments b)
    {
        if (a.Count == 0) return b;
        if (b.Count == 0) return a;
        long n = a.Count + b.Count;
        float delta = b.Mean - a.Mean;
        float mean = a.Mean + delta * (float)((double)b.Count / n);
        float m2 = a.M2 + b.M2 + delta * delta * (float)((double)a.Count * b.Count / n);
        return new Moments(n, mean, m2);
    }
}

/// <summary>
/// The vectorised building blocks of the normalisation layers: moments of a row or of the columns
/// of a [rows, cols] block, per-channel affine maps, and the two sums and the input gradient of
/// the normalisation backward. Rows are contiguous runs (an NCHW plane, a LayerNorm row); columns
/// are the channels of a channels-last block.
/// </summary>
internal static unsafe class NormMath
{
    /// <summary>How many pieces a reduction over <paramref name="rows"/> rows is cut into: a function of the shape only, so results do not depend on the thread count.</summary>
    public static int ChunkCount(int rows, int rowLength, int maxChunks)
    {
        long work = (long)rows * Math.Max(rowLength, 1);
        return (int)Math.Clamp(work / 16384, 1, Math.Max(1, Math.Min(rows, maxChunks)));
    }

    public static (int Start, int End) ChunkRange(int rows, int chunks, int chunk)
        => ((int)((long)rows * chunk / chunks), (int)((long)rows * (chunk + 1) / chunks));

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static Moments RowMoments(float* x, int n)
    {
        var result = default(Moments);
        int i = 0;
        if (Vector512.IsHardwareAccelerated && n >= 64)
        {
            Vector512<float> m0 = default, m1 = default, m2 = default, m3 = default;
            Vector512<float> s0 = default, s1 = default, s2 = default, s3 = default;
            int k = 0;
            for (; i <= n - 64; i += 64)
            {
                var rk = Vector512.Create(1f / ++k);
                Welford(ref m0, ref s0, Vector512.Load(x + i), rk);
                Welford(ref m1, ref s1, Vector512.Load(x + i + 16), rk);
                Welford(ref m2, ref s2, Vector512.Load(x + i + 32), rk);
                Welford(ref m3, ref s3, Vector512.Load(x + i + 48), rk);
            }
            MergeEqual(ref m0, ref s0, m1, s1, k);
            MergeEqual(ref m2, ref s2, m3, s3, k);
            MergeEqual(ref m0, ref s0, m2, s2, 2L * k);
            result = FoldLanes(m0, s0, 4L * k);
        }
        if (Vector512.IsHardwareAccelerated && n - i >= 16)
        {
            Vector512<float> m = default, s = default;
            int k = 0;
            for (; i <= n - 16; i += 16) Welford(ref m, ref s, Vector512.Load(x + i), Vector512.Create(1f / ++k));
            result = Moments.Merge(result, FoldLanes(m, s, k));
        }
        if (i < n)
        {
            float mean = 0f, m2 = 0f;
            int k = 0;
            for (; i < n; i++)
            {
                float v = x[i];
                float d = v - mean;
                mean += d / ++k;
                m2 += d * (v - mean);
            }
            result = Moments.Merge(result, new Moments(k, mean, m2));
        }
        return result;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Welford(ref Vector512<float> mean, ref Vector512<float> m2, Vector512<float> v, Vector512<float> reciprocalCount)
    {
        var d = v - mean;
        mean = Vector512.FusedMultiplyAdd(d, reciprocalCount, mean);
        m2 = Vector512.FusedMultiplyAdd(d, v - mean, m2);
    }

    /// <summary>Chan's merge of two lane sets that each hold <paramref name="count"/> values.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void MergeEqual(ref Vector512<float> meanA, ref Vector512<float> m2A, Vector512<float> meanB, Vector512<float> m2B, long count)
    {
        var d = meanB - meanA;
        meanA = (meanA + meanB) * 0.5f;
        m2A = m2A + m2B + d * d * (count * 0.5f);
    }

    /// <summary>Folds 16 lanes of equal count into one set, halving the width each step.</summary>
    private static Moments FoldLanes(Vector512<float> mean, Vector512<float> m2, long count)
    {
        var ml = mean.GetLower();
        var mu = mean.GetUpper();
        var d8 = mu - ml;
        var mean8 = (ml + mu) * 0.5f;
        var m28 = m2.GetLower() + m2.GetUpper() + d8 * d8 * (count * 0.5f);
        count *= 2;
        var d4 = mean8.GetUpper() - mean8.GetLower();
        var mean4 = (mean8.GetLower() + mean8.GetUpper()) * 0.5f;
        var m24 = m28.GetLower() + m28.GetUpper() + d4 * d4 * (count * 0.5f);
        count *= 2;
        var a = Moments.Merge(new Moments(count, mean4[0], m24[0]), new Moments(count, mean4[1], m24[1]));
        var b = Moments.Merge(new Moments(count, mean4[2], m24[2]), new Moments(count, mean4[3], m24[3]));
        return Moments.Merge(a, b);
    }

    /// <summary>Per-column mean and M2 of a [rows, cols] row-major block (count = rows).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ColumnMoments(float* x, int rows, int cols, float* mean, float* m2)
    {
        new Span<float>(mean, cols).Clear();
        new Span<float>(m2, cols).Clear();
        for (int r = 0; r < rows; r++)
        {
            float* row = x + (long)r * cols;
            float rk = 1f / (r + 1);
            int c = 0;
            if (Vector512.IsHardwareAccelerated)
            {
                var vrk = Vector512.Create(rk);
                for (; c <= cols - 16; c += 16)
                {
                    var m = Vector512.Load(mean + c);
                    var s = Vector512.Load(m2 + c);
                    Welford(ref m, ref s, Vector512.Load(row + c), vrk);
                    Vector512.Store(m, mean + c);
                    Vector512.Store(s, m2 + c);
                }
            }
            for (; c < cols; c++)
            {
                float v = row[c];
                float d = v - mean[c];
                mean[c] += d * rk;
                m2[c] += d * (v - mean[c]);
            }
        }
    }

    /// <summary>Merges column moments B (count <paramref name="countB"/>) into A (count <paramref name="countA"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void MergeColumnMoments(long countA, float* meanA, float* m2A, long countB, float* meanB, float* m2B, int cols)
    {
        if (countB == 0) return;
        if (countA == 0)
        {
            Buffer.MemoryCopy(meanB, meanA, cols * 4L, cols * 4L);
            Buffer.MemoryCopy(m2B, m2A, cols * 4L, cols * 4L);
            return;
        }
        long n = countA + countB;
        float fb = (float)((double)countB / n), fab = (float)((double)countA * countB / n);
        int c = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            var vfb = Vector512.Create(fb);
            var vfab = Vector512.Create(fab);
            for (; c <= cols - 16; c += 16)
            {
                var ma = Vector512.Load(meanA + c);
                var d = Vector512.Load(meanB + c) - ma;
                Vector512.Store(Vector512.FusedMultiplyAdd(d, vfb, ma), meanA + c);
                Vector512.Store(Vector512.Load(m2A + c) + Vector512.Load(m2B + c) + d * d * vfab, m2A + c);
            }
        }
        for (; c < cols; c++)
        {
            float d = meanB[c] - meanA[c];
            meanA[c] += d * fb;
            m2A[c] = m2A[c] + m2B[c] + d * d * fab;
        }
    }

    /// <summary>y = x·scale + shift over a contiguous run.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void RowAffine(float* x, float* y, int n, float scale, float shift)
    {
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            var a = Vector512.Create(scale);
            var b = Vector512.Create(shift);
            for (; i <= n - 32; i += 32)
            {
                Vector512.Store(Vector512.FusedMultiplyAdd(Vector512.Load(x + i), a, b), y + i);
                Vector512.Store(Vector512.FusedMultiplyAdd(Vector512.Load(x + i + 16), a, b), y + i + 16);
            }
            for (; i <= n - 16; i += 16) Vector512.Store(Vector512.FusedMultiplyAdd(Vector512.Load(x + i), a, b), y + i);
        }
        if (Vector256.IsHardwareAccelerated)
        {
            var a = Vector256.Create(scale);
            var b = Vector256.Create(shift);
            for (; i <= n - 8; i += 8) Vector256.Store(Vector256.FusedMultiplyAdd(Vector256.Load(x + i), a, b), y + i);
        }
        for (; i < n; i++) y[i] = MathF.FusedMultiplyAdd(x[i], scale, shift);
    }

    /// <summary>y[r, c] = x[r, c]·scale[c] + shift[c] over a [rows, cols] block.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ColumnAffine(float* x, float* y, int rows, int cols, float* scale, float* shift)
    {
        for (int r = 0; r < rows; r++)
        {
            float* xr = x + (long)r * cols, yr = y + (long)r * cols;
            int c = 0;
            if (Vector512.IsHardwareAccelerated)
                for (; c <= cols - 16; c += 16)
                    Vector512.Store(Vector512.FusedMultiplyAdd(Vector512.Load(xr + c), Vector512.Load(scale + c), Vector512.Load(shift + c)), yr + c);
            if (Vector256.IsHardwareAccelerated)
                for (; c <= cols - 8; c += 8)
                    Vector256.Store(Vector256.FusedMultiplyAdd(Vector256.Load(xr + c), Vector256.Load(scale + c), Vector256.Load(shift + c)), yr + c);
            for (; c < cols; c++) yr[c] = MathF.FusedMultiplyAdd(xr[c], scale[c], shift[c]);
        }
    }

    /// <summary>Σ dy and Σ dy·(x − mean) over a contiguous run.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static (float SumDy, float SumDyXmu) RowGradSums(float* x, float* dy, int n, float mean)
    {
        int i = 0;
        float sumDy = 0f, sumDyXmu = 0f;
        if (Vector512.IsHardwareAccelerated && n >= 16)
        {
            var vm = Vector512.Create(mean);
            Vector512<float> g0 = default, g1 = default, p0 = default, p1 = default;
            for (; i <= n - 32; i += 32)
            {
                var d0 = Vector512.Load(dy + i);
                var d1 = Vector512.Load(dy + i + 16);
                g0 += d0;
                g1 += d1;
                p0 = Vector512.FusedMultiplyAdd(d0, Vector512.Load(x + i) - vm, p0);
                p1 = Vector512.FusedMultiplyAdd(d1, Vector512.Load(x + i + 16) - vm, p1);
            }
            for (; i <= n - 16; i += 16)
            {
                var d0 = Vector512.Load(dy + i);
                g0 += d0;
                p0 = Vector512.FusedMultiplyAdd(d0, Vector512.Load(x + i) - vm, p0);
            }
            sumDy = Vector512.Sum(g0 + g1);
            sumDyXmu = Vector512.Sum(p0 + p1);
        }
        for (; i < n; i++)
        {
            sumDy += dy[i];
            sumDyXmu += dy[i] * (x[i] - mean);
        }
        return (sumDy, sumDyXmu);
    }

    /// <summary>Per column c of a [rows, cols] block: Σ dy and Σ dy·(x − mean[c]), written (not added) to the outputs.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ColumnGradSums(float* x, float* dy, int rows, int cols, float* mean, float* sumDy, float* sumDyXmu)
    {
        new Span<float>(sumDy, cols).Clear();
        new Span<float>(sumDyXmu, cols).Clear();
        for (int r = 0; r < rows; r++)
        {
            float* xr = x + (long)r * cols, gr = dy + (long)r * cols;
            int c = 0;
            if (Vector512.IsHardwareAccelerated)
            {
                for (; c <= cols - 16; c += 16)
                {
                    var g = Vector512.Load(gr + c);
                    Vector512.Store(Vector512.Load(sumDy + c) + g, sumDy + c);
                    Vector512.Store(Vector512.FusedMultiplyAdd(g, Vector512.Load(xr + c) - Vector512.Load(mean + c), Vector512.Load(sumDyXmu + c)), sumDyXmu + c);
                }
            }
            for (; c < cols; c++)
            {
                sumDy[c] += gr[c];
                sumDyXmu[c] += gr[c] * (xr[c] - mean[c]);
            }
        }
    }

    /// <summary>dx = dy·a + (x − mean)·b + c over a contiguous run: every normalisation backward has this form per channel or group.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void RowInputGrad(float* x, float* dy, float* dx, int n, float mean, float a, float b, float c)
    {
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            Vector512<float> vm = Vector512.Create(mean), va = Vector512.Create(a), vb = Vector512.Create(b), vc = Vector512.Create(c);
            for (; i <= n - 16; i += 16)
            {
                var t = Vector512.FusedMultiplyAdd(Vector512.Load(x + i) - vm, vb, vc);
                Vector512.Store(Vector512.FusedMultiplyAdd(Vector512.Load(dy + i), va, t), dx + i);
            }
        }
        for (; i < n; i++) dx[i] = MathF.FusedMultiplyAdd(dy[i], a, MathF.FusedMultiplyAdd(x[i] - mean, b, c));
    }

    /// <summary>dx[r, k] = dy·a[k] + (x − mean[k])·b[k] + c[k] over a [rows, cols] block.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ColumnInputGrad(float* x, float* dy, float* dx, int rows, int cols, float* mean, float* a, float* b, float* c)
    {
        for (int r = 0; r < rows; r++)
        {
            long o = (long)r * cols;
            float* xr = x + o, gr = dy + o, dr = dx + o;
            int k = 0;
            if (Vector512.IsHardwareAccelerated)
            {
                for (; k <= cols - 16; k += 16)
                {
                    var t = Vector512.FusedMultiplyAdd(Vector512.Load(xr + k) - Vector512.Load(mean + k), Vector512.Load(b + k), Vector512.Load(c + k));
                    Vector512.Store(Vector512.FusedMultiplyAdd(Vector512.Load(gr + k), Vector512.Load(a + k), t), dr + k);
                }
            }
            for (; k < cols; k++) dr[k] = MathF.FusedMultiplyAdd(gr[k], a[k], MathF.FusedMultiplyAdd(xr[k] - mean[k], b[k], c[k]));
        }
    }
}
