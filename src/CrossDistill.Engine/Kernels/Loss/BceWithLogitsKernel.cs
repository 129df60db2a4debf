using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace CrossDistill.Engine.Kernels;

/// <summary>
/// Binary cross entropy on logits, in PyTorch's overflow-free form:
/// loss = w·((1 − t)·x + (1 + (p − 1)·t)·softplus(−x)), softplus(−x) = m + log(e^−m + e^(−x−m)), m = max(−x, 0),
/// with weight w and positive-class weight p. Logits and targets are dense with one layout and
/// walked flat; w and p repeat with a period (the last dim, or the whole tensor when they were
/// materialised at full size), so element i uses w[i mod period].
/// </summary>
internal static unsafe class BceWithLogitsKernel
{
    private const int Chunk = 1 << 14;

    /// <summary>Σ loss in chunks of fixed size added in double, in order: reproducible on any thread count.</summary>
    public static double Sum(float* x, float* t, float* w, float* p, int n, int period)
    {
        int chunks = (n + Chunk - 1) / Chunk;
        var partial = new double[chunks];
        nint px = (nint)x, pt = (nint)t, pw = (nint)w, pp = (nint)p;
        Workers.For(chunks, 2, (start, end) =>
        {
            for (int k = start; k < end; k++)
            {
                int i0 = k * Chunk, i1 = Math.Min(n, i0 + Chunk);
                float sum = 0f;
                for (int i = i0; i < i1;)
                {
                    int j = i % period, len = Math.Min(period - j, i1 - i);
                    sum += LossRun((float*)px + i, (float*)pt + i, (float*)pw + j, (float*)pp + j, null, len);
                    i += len;
                }
                partial[k] = sum;
            }
        });
        double total = 0;
        foreach (double v in partial) total += v;
        return total;
    }

    /// <summary>Writes the loss of each element.</summary>
    public static void Map(float* x, float* t, float* w, float* p, float* loss, int n, int period)
    {
        nint px = (nint)x, pt = (nint)t, pw = (nint)w, pp = (nint)p, pl = (nint)loss;
        Workers.For((n + Chunk - 1) / Chunk, 2, (start, end) =>
        {
            for (int i = start * Chunk, stop = Math.Min(n, end * Chunk); i < stop;)
            {
                int j = i % period, len = Math.Min(period - j, stop - i);
                LossRun((float*)px + i, (float*)pt + i, (float*)pw + j, (float*)pp + j, (float*)pl + i, len);
                i += len;
            }
        });
    }

    /// <summary>
    /// dx = s·w·((1 + (p − 1)·t)·σ(x) − p·t) and dt = s·w·((p − 1)·softplus(−x) − x), for the
    /// outputs that are not null; s is read with <paramref name="scaleStride"/> (0 for a reduced loss).
    /// </summary>
    public static void Grad(float* x, float* t, float* w, float* p, float* scale, int scaleStride, float* dx, float* dt, int n, int period)
    {
        nint px = (nint)x, pt = (nint)t, pw = (nint)w, pp = (nint)p, ps = (nint)scale, pdx = (nint)dx, pdt = (nint)dt;
        Workers.For((n + Chunk - 1) / Chunk, 2, (start, end) =>
        {
            for (int i = start * Chunk, stop = Math.Min(n, end * Chunk); i < stop;)
            {
                int j = i % period, len = Math.Min(period - j, stop - i);
                GradRun((float*)px + i, (float*)pt + i, (float*)pw + j, (float*)pp + j, (float*)ps + (long)i * scaleStride, scaleStride,
                    pdx == 0 ? null : (float*)pdx + i, pdt == 0 ? null : (float*)pdt + i, len);
                i += len;
            }
        });
    }

    /// <summary>The loss over a run; written to <paramref name="loss"/> when it is not null, and summed.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float LossRun(float* x, float* t, float* w, float* p, float* loss, int n)
    {
        int i = 0;
        float sum = 0f;
        if (Vector512.IsHardwareAccelerated)
        {
            Vector512<float> acc = default;
            for (; i <= n - 16; i += 16)
            {
                var v = Loss(Vector512.Load(x + i), Vector512.Load(t + i), Vector512.Load(w + i), Vector512.Load(p + i));
                if (loss != null) Vector512.Store(v, loss + i);
                acc += v;
            }
            sum = Vector512.Sum(acc);
        }
        for (; i < n; i++)
        {
            float v = Loss(x[i], t[i], w[i], p[i]);
            if (loss != null) loss[i] = v;
            sum += v;
        }
        return sum;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void GradRun(float* x, float* t, float* w, float* p, float* scale, int scaleStride, float* dx, float* dt, int n)
    {
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            for (; i <= n - 16; i += 16)
            {
                var vx = Vector512.Load(x + i);
                var vt = Vector512.Load(t + i);
                var vp = Vector512.Load(p + i);
                var sw = Vector512.Load(w + i) * (scaleStride == 0 ? Vector512.Create(*scale) : Vector512.Load(scale + i));
                if (dx != null)
                {
                    var sig = Vector512<float>.One / (Vector512<float>.One + Vector512.Exp(-vx));
                    var pt = vp * vt;
                    Vector512.Store((Vector512.FusedMultiplyAdd(pt + Vector512<float>.One - vt, sig, -pt)) * sw, dx + i);
                }
                if (dt != null) Vector512.Store(((vp - Vector512<float>.One) * SoftplusNeg(vx) - vx) * sw, dt + i);
            }
        }
        for (; i < n; i++)
        {
            float sw = w[i] * scale[(long)i * scaleStride];
            if (dx != null)
            {
                float sig = 1f / (1f + MathF.Exp(-x[i]));
                float pt = p[i] * t[i];
                dx[i] = ((pt + 1f - t[i]) * sig - pt) * sw;
            }
            if (dt != null) dt[i] = ((p[i] - 1f) * SoftplusNeg(x[i]) - x[i]) * sw;
        }
    }

    private static float Loss(float x, float t, float w, float p)
    {
        float logWeight = (p - 1f) * t + 1f;
        return ((1f - t) * x + logWeight * SoftplusNeg(x)) * w;
    }

    private static Vector512<float> Loss(Vector512<float> x, Vector512<float> t, Vector512<float> w, Vector512<float> p)
    {
        var one = Vector512<float>.One;
        var logWeight = Vector512.FusedMultiplyAdd(p - one, t, one);
        return ((one - t) * x + logWeight * SoftplusNeg(x)) * w;
    }

    /// <summary>log(1 + e^−x) without overflow.</summary>
    private static float SoftplusNeg(float x)
    {
        float m = MathF.Max(-x, 0f);
        return MathF.Log(MathF.Exp(-m) + MathF.Exp(-x - m)) + m;
    }

    private static Vector512<float> SoftplusNeg(Vector512<float> x)
    {
        var m = Vector512.Max(-x, Vector512<float>.Zero);
        return Vector512.Log(Vector512.Exp(-m) + Vector512.Exp(-x - m)) + m;
    }
}
