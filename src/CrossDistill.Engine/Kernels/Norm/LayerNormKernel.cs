using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace CrossDistill.Engine.Kernels;

/// <summary>
/// Layer norm over contiguous rows: the forward reads each row once for its moments (Welford) and
/// once to write it; the backward reads each row once for its two sums and once to write the input
/// gradient. Weight and bias gradients are accumulated per chunk of rows and the chunks are added
/// in order; the chunking depends only on the shape, so the sums are reproducible.
/// </summary>
internal static unsafe class LayerNormKernel
{
    private const int MaxChunks = 64;

    /// <summary>y = (x − mean)·invStd·w + b per row; w and b are both given or both null.</summary>
    public static void Forward(float* x, float* y, int rows, int d, float* w, float* b, float eps, float* mean, float* invStd)
    {
        nint px = (nint)x, py = (nint)y, pw = (nint)w, pb = (nint)b, pm = (nint)mean, pr = (nint)invStd;
        Workers.For(rows, Math.Max(1, (1 << 14) / Math.Max(d, 1)), (start, end) =>
        {
            for (int r = start; r < end; r++)
            {
                float* xr = (float*)px + (long)r * d, yr = (float*)py + (long)r * d;
                var m = NormMath.RowMoments(xr, d);
                float mu = m.MeanF, rstd = 1f / MathF.Sqrt((float)m.BiasedVariance + eps);
                ((float*)pm)[r] = mu;
                ((float*)pr)[r] = rstd;
                if (pw == 0) NormMath.RowNormalize(xr, yr, d, mu, rstd, 0f);
                else AffineRow(xr, yr, d, mu, rstd, (float*)pw, (float*)pb);
            }
        });
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void AffineRow(float* x, float* y, int d, float mean, float rstd, float* w, float* b)
    {
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            Vector512<float> vm = Vector512.Create(mean), vr = Vector512.Create(rstd);
            for (; i <= d - 16; i += 16)
            {
                var t = (Vector512.Load(x + i) - vm) * vr;
                Vector512.Store(Vector512.FusedMultiplyAdd(t, Vector512.Load(w + i), Vector512.Load(b + i)), y + i);
            }
        }
        for (; i < d; i++) y[i] = MathF.FusedMultiplyAdd((x[i] - mean) * rstd, w[i], b[i]);
    }

    /// <summary>
    /// Input gradient (when <paramref name="dx"/> is not null) and weight and bias gradients (when
    /// <paramref name="dW"/> is not null; both are then written). <paramref name="w"/> is never null.
    /// </summary>
    public static void Backward(float* x, float* dy, float* dx, int rows, int d, float* mean, float* invStd, float* w, float* dW, float* dB)
    {
        nint px = (nint)x, pg = (nint)dy, pd = (nint)dx, pm = (nint)mean, pr = (nint)invStd, pw = (nint)w;
        if (dW == null)
        {
            Workers.For(rows, Math.Max(1, (1 << 14) / Math.Max(d, 1)), (start, end) =>
            {
                for (int r = start; r < end; r++)
                {
                    long o = (long)r * d;
                    InputGradRow((float*)px + o, (float*)pg + o, (float*)pd + o, d, ((float*)pm)[r], ((float*)pr)[r], (float*)pw, null, null);
                }
            });
            return;
        }

        int chunks = NormMath.ChunkCount(rows, d, MaxChunks);
        using var partial = Tensor.Empty(new[] { chunks, 2, d }, zero: true);
        nint pp = (nint)partial.DataPtr;
        Workers.For(chunks, 1, (start, end) =>
        {
            for (int k = start; k < end; k++)
            {
                var (r0, r1) = NormMath.ChunkRange(rows, chunks, k);
                float* accW = (float*)pp + (long)k * 2 * d, accB = accW + d;
                for (int r = r0; r < r1; r++)
                {
                    long o = (long)r * d;
                    float m = ((float*)pm)[r], rstd = ((float*)pr)[r];
                    if (pd != 0) InputGradRow((float*)px + o, (float*)pg + o, (float*)pd + o, d, m, rstd, (float*)pw, accW, accB);
                    else AccumulateParamGrads((float*)px + o, (float*)pg + o, d, m, rstd, accW, accB);
                }
            }
        });
        new Span<float>(dW, d).Clear();
        new Span<float>(dB, d).Clear();
        for (int k = 0; k < chunks; k++)
        {
            float* accW = (float*)pp + (long)k * 2 * d, accB = accW + d;
            AddInto(dW, accW, d);
            AddInto(dB, accB, d);
        }
    }

    /// <summary>
    /// With dyw = dy·w: dx = r·dyw − r·Σdyw/D − (x − mean)·r³·Σdyw(x − mean)/D. The first sweep
    /// takes the two sums; the second writes dx and, when <paramref name="accW"/> is not null, adds
    /// the row's weight and bias gradients into accW and accB on the way.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void InputGradRow(float* x, float* dy, float* dx, int d, float mean, float rstd, float* w, float* accW, float* accB)
    {
        int i = 0;
        float s1 = 0f, s2 = 0f;
        var vm = Vector512.Create(mean);
        if (Vector512.IsHardwareAccelerated)
        {
            Vector512<float> a0 = default, a1 = default, q0 = default, q1 = default;
            for (; i <= d - 32; i += 32)
            {
                var g0 = Vector512.Load(dy + i) * Vector512.Load(w + i);
                var g1 = Vector512.Load(dy + i + 16) * Vector512.Load(w + i + 16);
                a0 += g0;
                a1 += g1;
                q0 = Vector512.FusedMultiplyAdd(g0, Vector512.Load(x + i) - vm, q0);
                q1 = Vector512.FusedMultiplyAdd(g1, Vector512.Load(x + i + 16) - vm, q1);
            }
            for (; i <= d - 16; i += 16)
            {
                var g0 = Vector512.Load(dy + i) * Vector512.Load(w + i);
                a0 += g0;
                q0 = Vector512.FusedMultiplyAdd(g0, Vector512.Load(x + i) - vm, q0);
            }
            s1 = Vector512.Sum(a0 + a1);
            s2 = Vector512.Sum(q0 + q1);
        }
        for (; i < d; i++)
        {
            float g = dy[i] * w[i];
            s1 += g;
            s2 += g * (x[i] - mean);
        }
        float b = -rstd * rstd * rstd * s2 / d, c = -rstd * s1 / d;
        i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            Vector512<float> vr = Vector512.Create(rstd), vb = Vector512.Create(b), vc = Vector512.Create(c);
            if (accW == null)
            {
                for (; i <= d - 16; i += 16)
                {
                    var t = Vector512.FusedMultiplyAdd(Vector512.Load(x + i) - vm, vb, vc);
                    Vector512.Store(Vector512.FusedMultiplyAdd(Vector512.Load(dy + i) * Vector512.Load(w + i), vr, t), dx + i);
                }
            }
            else
            {
                for (; i <= d - 16; i += 16)
                {
                    var xmu = Vector512.Load(x + i) - vm;
                    var g = Vector512.Load(dy + i);
                    Vector512.Store(Vector512.FusedMultiplyAdd(g * Vector512.Load(w + i), vr, Vector512.FusedMultiplyAdd(xmu, vb, vc)), dx + i);
                    Vector512.Store(Vector512.FusedMultiplyAdd(g, xmu * vr, Vector512.Load(accW + i)), accW + i);
                    Vector512.Store(Vector512.Load(accB + i) + g, accB + i);
                }
            }
        }
        for (; i < d; i++)
        {
            float xmu = x[i] - mean;
            dx[i] = MathF.FusedMultiplyAdd(dy[i] * w[i], rstd, MathF.FusedMultiplyAdd(xmu, b, c));
            if (accW != null)
            {
                accW[i] += dy[i] * (xmu * rstd);
                accB[i] += dy[i];
            }
        }
    }

    /// <summary>accW += dy·(x − mean)·r and accB += dy along a row.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void AccumulateParamGrads(float* x, float* dy, int d, float mean, float rstd, float* accW, float* accB)
    {
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            Vector512<float> vm = Vector512.Create(mean), vr = Vector512.Create(rstd);
            for (; i <= d - 16; i += 16)
            {
                var g = Vector512.Load(dy + i);
                var xhat = (Vector512.Load(x + i) - vm) * vr;
                Vector512.Store(Vector512.FusedMultiplyAdd(g, xhat, Vector512.Load(accW + i)), accW + i);
                Vector512.Store(Vector512.Load(accB + i) + g, accB + i);
            }
        }
        for (; i < d; i++)
        {
            accW[i] += dy[i] * ((x[i] - mean) * rstd);
            accB[i] += dy[i];
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void AddInto(float* acc, float* x, int n)
    {
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
            for (; i <= n - 16; i += 16) Vector512.Store(Vector512.Load(acc + i) + Vector512.Load(x + i), acc + i);
        for (; i < n; i++) acc[i] += x[i];
    }
}
