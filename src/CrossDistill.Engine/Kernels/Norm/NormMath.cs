using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace CrossDistill.Engine.Kernels;

/// <summary>
/// Count, mean and sum of squared deviations (M2) of a set of values, merged with Chan's formula.
/// Partial results come from float32 kernels; merging them is rare enough to do in double.
/// </summary>
internal struct Moments
{
    public long Count;
    public double Mean;
    public double M2;

    public Moments(long count, double mean, double m2)
    {
        Count = count;
        Mean = mean;
        M2 = m2;
    }

    /// <summary>From sums of deviations from a shift K: Σ(x − K) and Σ(x − K)².</summary>
    public static Moments FromShiftedSums(long count, double shift, double sum, double sumSquares)
    {
        double d = sum / count;
        return new Moments(count, shift + d, Math.Max(sumSquares - sum * d, 0));
    }

    public readonly float MeanF => (float)Mean;

    public readonly double BiasedVariance => M2 / Count;

    public static Moments Merge(Moments a, Moments b)
    {
        if (a.Count == 0) return b;
        if (b.Count == 0) return a;
        long n = a.Count + b.Count;
        double delta = b.Mean - a.Mean;
        return new Moments(n, a.Mean + delta * b.Count / n, a.M2 + b.M2 + delta * delta * a.Count * b.Count / n);
    }
}

/// <summary>
/// The vectorised building blocks of the normalisation layers: moments of a row or of the columns
/// of a [rows, cols] block, the forward normalisation, and the two sums and the input gradient of
/// the normalisation backward. Rows are contiguous runs (an NCHW plane, a LayerNorm row); columns
/// are the channels of a channels-last block.
/// <para>
/// Statistics must survive a mean far from zero relative to the spread, where Σx and Σx² cancel.
/// A row is reduced with Welford's update in 64 independent lanes, so each lane's running mean
/// takes few rounding steps. Columns are reduced as sums of deviations from a shift K taken from
/// the data (the first row): |x − K| is of the order of the spread, so the float sums lose nothing
/// to the mean, and the mean K + Σ(x − K)/n is rounded once.
/// </para>
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

    /// <summary>Per column c of a [rows, cols] block: Σ(x − shift[c]) and Σ(x − shift[c])², written (not added).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ColumnShiftedSums(float* x, int rows, int cols, float* shift, float* sum, float* sumSquares)
    {
        new Span<float>(sum, cols).Clear();
        new Span<float>(sumSquares, cols).Clear();
        for (int r = 0; r < rows; r++)
        {
            float* row = x + (long)r * cols;
            int c = 0;
            if (Vector512.IsHardwareAccelerated)
            {
                for (; c <= cols - 16; c += 16)
                {
                    var d = Vector512.Load(row + c) - Vector512.Load(shift + c);
                    Vector512.Store(Vector512.Load(sum + c) + d, sum + c);
                    Vector512.Store(Vector512.FusedMultiplyAdd(d, d, Vector512.Load(sumSquares + c)), sumSquares + c);
                }
            }
            for (; c < cols; c++)
            {
                float d = row[c] - shift[c];
                sum[c] += d;
                sumSquares[c] += d * d;
            }
        }
    }

    /// <summary>
    /// y = (x − mean)·scale + bias over a contiguous run. Subtracting the mean first keeps the
    /// digits that x·scale + (bias − mean·scale) would round away when the mean is large.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void RowNormalize(float* x, float* y, int n, float mean, float scale, float bias)
    {
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            Vector512<float> m = Vector512.Create(mean), a = Vector512.Create(scale), b = Vector512.Create(bias);
            for (; i <= n - 32; i += 32)
            {
                Vector512.Store(Vector512.FusedMultiplyAdd(Vector512.Load(x + i) - m, a, b), y + i);
                Vector512.Store(Vector512.FusedMultiplyAdd(Vector512.Load(x + i + 16) - m, a, b), y + i + 16);
            }
            for (; i <= n - 16; i += 16) Vector512.Store(Vector512.FusedMultiplyAdd(Vector512.Load(x + i) - m, a, b), y + i);
        }
        if (Vector256.IsHardwareAccelerated)
        {
            Vector256<float> m = Vector256.Create(mean), a = Vector256.Create(scale), b = Vector256.Create(bias);
            for (; i <= n - 8; i += 8) Vector256.Store(Vector256.FusedMultiplyAdd(Vector256.Load(x + i) - m, a, b), y + i);
        }
        for (; i < n; i++) y[i] = MathF.FusedMultiplyAdd(x[i] - mean, scale, bias);
    }

    /// <summary>y[r, c] = (x[r, c] − mean[c])·scale[c] + bias[c] over a [rows, cols] block.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ColumnNormalize(float* x, float* y, int rows, int cols, float* mean, float* scale, float* bias)
    {
        for (int r = 0; r < rows; r++)
        {
            float* xr = x + (long)r * cols, yr = y + (long)r * cols;
            int c = 0;
            if (Vector512.IsHardwareAccelerated)
                for (; c <= cols - 16; c += 16)
                    Vector512.Store(Vector512.FusedMultiplyAdd(Vector512.Load(xr + c) - Vector512.Load(mean + c), Vector512.Load(scale + c), Vector512.Load(bias + c)), yr + c);
            if (Vector256.IsHardwareAccelerated)
                for (; c <= cols - 8; c += 8)
                    Vector256.Store(Vector256.FusedMultiplyAdd(Vector256.Load(xr + c) - Vector256.Load(mean + c), Vector256.Load(scale + c), Vector256.Load(bias + c)), yr + c);
            for (; c < cols; c++) yr[c] = MathF.FusedMultiplyAdd(xr[c] - mean[c], scale[c], bias[c]);
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
