using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace CrossDistill.Engine.Kernels;

/// <summary>One cross-entropy evaluation: logits walked by <see cref="Layout"/> and either class indices or soft targets.</summary>
internal unsafe struct CrossEntropyProblem
{
    public float* Logits;
    /// <summary>The class of each position, or null for soft targets.</summary>
    public long* Index;
    /// <summary>Class probabilities stored like the logits, or null for class indices.</summary>
    public float* Soft;
    /// <summary>C class weights; ones when the caller has none.</summary>
    public float* Weight;
    public float WeightSum;
    public float Smoothing;
    public long IgnoreIndex;
    public AxisLayout Layout;
}

/// <summary>
/// Fused cross entropy. The forward reads each position's logits twice (max, then the exponential
/// sum together with the smoothing or soft-target sums) and writes its loss and its log-sum-exp;
/// the backward reads them once and writes softmax − target, scaled. Logits with the classes
/// innermost are vectorised along the classes; NCHW logits are vectorised across 16 positions at a
/// time, walking the classes with a stride.
/// </summary>
internal static unsafe class CrossEntropyKernel
{
    private const int Block = 256;

    /// <summary>Writes per position the log-sum-exp, the loss (0 for ignored ones) and, in <paramref name="aux"/>, the target weight w[t] (index targets) or Σ w·t′ (soft targets).</summary>
    public static void Forward(CrossEntropyProblem p, float* lse, float* loss, float* aux)
    {
        var l = p.Layout;
        nint pl = (nint)lse, pv = (nint)loss, pa = (nint)aux;
        if (l.AxisInnermost)
        {
            Workers.For(l.Positions, Math.Max(1, (1 << 14) / Math.Max(l.Axis, 1)), (start, end) =>
            {
                for (int pos = start; pos < end; pos++) ForwardRow(p, pos, (float*)pl, (float*)pv, (float*)pa);
            });
            return;
        }
        int blocks = (l.Inner + Block - 1) / Block;
        Workers.For(l.Outer * blocks, Math.Max(1, (1 << 14) / Math.Max(l.Axis * Block, 1)), (start, end) =>
        {
            for (int u = start; u < end; u++)
            {
                int o = u / blocks, i0 = u % blocks * Block;
                ForwardColumns(p, o, i0, Math.Min(l.Inner, i0 + Block), (float*)pl, (float*)pv, (float*)pa);
            }
        });
    }

    /// <summary>
    /// dlogits = scale·(softmax·A − target part) per position, and for soft targets that require a
    /// gradient, dtarget = scale·(1 − ε)·w·(lse − x). <paramref name="scale"/> is read with
    /// <paramref name="scaleStride"/> (0 for a reduced loss).
    /// </summary>
    public static void Backward(CrossEntropyProblem p, float* lse, float* aux, float* scale, int scaleStride, float* dx, float* dt)
    {
        var l = p.Layout;
        nint pl = (nint)lse, pa = (nint)aux, ps = (nint)scale, pd = (nint)dx, pt = (nint)dt;
        if (l.AxisInnermost)
        {
            Workers.For(l.Positions, Math.Max(1, (1 << 14) / Math.Max(l.Axis, 1)), (start, end) =>
            {
                for (int pos = start; pos < end; pos++)
                    BackwardRow(p, pos, ((float*)pl)[pos], ((float*)pa)[pos], ((float*)ps)[(long)pos * scaleStride], (float*)pd, (float*)pt);
            });
            return;
        }
        int blocks = (l.Inner + Block - 1) / Block;
        Workers.For(l.Outer * blocks, Math.Max(1, (1 << 14) / Math.Max(l.Axis * Block, 1)), (start, end) =>
        {
            for (int u = start; u < end; u++)
            {
                int o = u / blocks, i0 = u % blocks * Block;
                BackwardColumns(p, o, i0, Math.Min(l.Inner, i0 + Block), (float*)pl, (float*)pa, (float*)ps, scaleStride, (float*)pd, (float*)pt);
            }
        });
    }

    // ---- forward ----

    private static void ForwardRow(in CrossEntropyProblem p, int pos, float* lse, float* loss, float* aux)
    {
        int c = p.Layout.Axis;
        float* x = p.Logits + (long)pos * c;
        float max = RowMax(x, c);
        float sumExp, dist = 0f, softSum = 0f, softDist = 0f;
        if (p.Soft != null)
            (sumExp, softSum, softDist) = RowExpSoft(x, p.Soft + (long)pos * c, p.Weight, c, max, 1f - p.Smoothing, p.Smoothing / c);
        else if (p.Smoothing > 0f) (sumExp, dist) = RowExpDistance(x, p.Weight, c, max);
        else sumExp = RowExpSum(x, c, max);
        float logZ = MathF.Log(sumExp);
        lse[pos] = max + logZ;
        if (p.Soft != null)
        {
            loss[pos] = softSum * logZ + softDist;
            aux[pos] = softSum;
        }
        else IndexLoss(p, pos, x, 1, max, logZ, dist, loss, aux);
    }

    /// <summary>The loss of a position with a class-index target; x is its first logit, classes <paramref name="stride"/> apart.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void IndexLoss(in CrossEntropyProblem p, int pos, float* x, int stride, float max, float logZ, float dist, float* loss, float* aux)
    {
        long t = p.Index[pos];
        if (t == p.IgnoreIndex)
        {
            loss[pos] = 0f;
            aux[pos] = 0f;
            return;
        }
        float wt = p.Weight[t];
        // −log softmax[t] = log Σexp(x − max) + (max − x[t]): two non-negative terms, no cancellation.
        float nll = logZ + (max - x[t * stride]);
        float value = (1f - p.Smoothing) * wt * nll;
        // Smoothing adds ε/C·Σ_c w_c·(−log softmax[c]) = ε/C·(W·logZ + Σ_c w_c·(max − x_c)).
        if (p.Smoothing > 0f) value += p.Smoothing / p.Layout.Axis * (p.WeightSum * logZ + dist);
        loss[pos] = value;
        aux[pos] = wt;
    }

    private static void ForwardColumns(in CrossEntropyProblem p, int o, int i0, int i1, float* lse, float* loss, float* aux)
    {
        var l = p.Layout;
        int c = l.Axis, inner = l.Inner;
        long baseOffset = (long)o * c * inner;
        float* xb = p.Logits + baseOffset;
        float* tb = p.Soft == null ? null : p.Soft + baseOffset;
        float keep = 1f - p.Smoothing, spread = p.Smoothing / c;
        int i = i0;
        if (Vector512.IsHardwareAccelerated)
        {
            for (; i <= i1 - 16; i += 16)
            {
                var vmax = Vector512.Load(xb + i);
                for (int k = 1; k < c; k++) vmax = Vector512.MaxNative(vmax, Vector512.Load(xb + (long)k * inner + i));
                Vector512<float> sum = default, dist = default, softSum = default, softDist = default;
                for (int k = 0; k < c; k++)
                {
                    var v = Vector512.Load(xb + (long)k * inner + i);
                    sum += Vector512.Exp(v - vmax);
                    if (tb != null)
                    {
                        var tw = Vector512.FusedMultiplyAdd(Vector512.Load(tb + (long)k * inner + i), Vector512.Create(keep), Vector512.Create(spread)) * p.Weight[k];
                        softSum += tw;
                        softDist = Vector512.FusedMultiplyAdd(tw, vmax - v, softDist);
                    }
                    else if (p.Smoothing > 0f) dist = Vector512.FusedMultiplyAdd(Vector512.Create(p.Weight[k]), vmax - v, dist);
                }
                var logZ = Vector512.Log(sum);
                int pos0 = o * inner + i;
                Vector512.Store(vmax + logZ, lse + pos0);
                if (tb != null)
                {
                    Vector512.Store(Vector512.FusedMultiplyAdd(softSum, logZ, softDist), loss + pos0);
                    Vector512.Store(softSum, aux + pos0);
                }
                else
                    for (int lane = 0; lane < 16; lane++)
                        IndexLoss(p, pos0 + lane, xb + i + lane, inner, vmax[lane], logZ[lane], dist[lane], loss, aux);
            }
        }
        for (; i < i1; i++) ForwardStrided(p, o * inner + i, xb + i, tb == null ? null : tb + i, inner, lse, loss, aux);
    }

    /// <summary>The scalar forward of one position whose classes are <paramref name="stride"/> apart.</summary>
    private static void ForwardStrided(in CrossEntropyProblem p, int pos, float* x, float* t, int stride, float* lse, float* loss, float* aux)
    {
        int c = p.Layout.Axis;
        float max = float.NegativeInfinity;
        for (int k = 0; k < c; k++) max = MathF.Max(max, x[(long)k * stride]);
        float sum = 0f, dist = 0f, softSum = 0f, softDist = 0f;
        float keep = 1f - p.Smoothing, spread = p.Smoothing / c;
        for (int k = 0; k < c; k++)
        {
            float v = x[(long)k * stride];
            sum += MathF.Exp(v - max);
            if (t != null)
            {
                float tw = (t[(long)k * stride] * keep + spread) * p.Weight[k];
                softSum += tw;
                softDist += tw * (max - v);
            }
            else dist += p.Weight[k] * (max - v);
        }
        float logZ = MathF.Log(sum);
        lse[pos] = max + logZ;
        if (t != null)
        {
            loss[pos] = softSum * logZ + softDist;
            aux[pos] = softSum;
        }
        else IndexLoss(p, pos, x, stride, max, logZ, dist, loss, aux);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float RowMax(float* x, int n)
    {
        int i = 0;
        float max = float.NegativeInfinity;
        if (Vector512.IsHardwareAccelerated && n >= 16)
        {
            var m0 = Vector512.Load(x);
            var m1 = m0;
            for (i = 16; i <= n - 32; i += 32)
            {
                m0 = Vector512.MaxNative(m0, Vector512.Load(x + i));
                m1 = Vector512.MaxNative(m1, Vector512.Load(x + i + 16));
            }
            for (; i <= n - 16; i += 16) m0 = Vector512.MaxNative(m0, Vector512.Load(x + i));
            m0 = Vector512.MaxNative(m0, m1);
            for (int k = 0; k < 16; k++) max = MathF.Max(max, m0[k]);
        }
        for (; i < n; i++) max = MathF.Max(max, x[i]);
        return max;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float RowExpSum(float* x, int n, float max)
    {
        int i = 0;
        float sum = 0f;
        if (Vector512.IsHardwareAccelerated && n >= 16)
        {
            var vm = Vector512.Create(max);
            Vector512<float> s0 = default, s1 = default;
            for (; i <= n - 32; i += 32)
            {
                s0 += Vector512.Exp(Vector512.Load(x + i) - vm);
                s1 += Vector512.Exp(Vector512.Load(x + i + 16) - vm);
            }
            for (; i <= n - 16; i += 16) s0 += Vector512.Exp(Vector512.Load(x + i) - vm);
            sum = Vector512.Sum(s0 + s1);
        }
        for (; i < n; i++) sum += MathF.Exp(x[i] - max);
        return sum;
    }

    /// <summary>Σ exp(x − max) and Σ w·(max − x).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static (float Sum, float Dist) RowExpDistance(float* x, float* w, int n, float max)
    {
        int i = 0;
        float sum = 0f, dist = 0f;
        if (Vector512.IsHardwareAccelerated && n >= 16)
        {
            var vm = Vector512.Create(max);
            Vector512<float> s = default, d = default;
            for (; i <= n - 16; i += 16)
            {
                var v = Vector512.Load(x + i);
                s += Vector512.Exp(v - vm);
                d = Vector512.FusedMultiplyAdd(Vector512.Load(w + i), vm - v, d);
            }
            sum = Vector512.Sum(s);
            dist = Vector512.Sum(d);
        }
        for (; i < n; i++)
        {
            sum += MathF.Exp(x[i] - max);
            dist += w[i] * (max - x[i]);
        }
        return (sum, dist);
    }

    /// <summary>Σ exp(x − max), Σ w·t′ and Σ w·t′·(max − x) with t′ = t·keep + spread.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static (float Sum, float SoftSum, float SoftDist) RowExpSoft(float* x, float* t, float* w, int n, float max, float keep, float spread)
    {
        int i = 0;
        float sum = 0f, softSum = 0f, softDist = 0f;
        if (Vector512.IsHardwareAccelerated && n >= 16)
        {
            Vector512<float> vm = Vector512.Create(max), vk = Vector512.Create(keep), vs = Vector512.Create(spread);
            Vector512<float> s = default, ts = default, td = default;
            for (; i <= n - 16; i += 16)
            {
                var v = Vector512.Load(x + i);
                s += Vector512.Exp(v - vm);
                var tw = Vector512.FusedMultiplyAdd(Vector512.Load(t + i), vk, vs) * Vector512.Load(w + i);
                ts += tw;
                td = Vector512.FusedMultiplyAdd(tw, vm - v, td);
            }
            sum = Vector512.Sum(s);
            softSum = Vector512.Sum(ts);
            softDist = Vector512.Sum(td);
        }
        for (; i < n; i++)
        {
            sum += MathF.Exp(x[i] - max);
            float tw = (t[i] * keep + spread) * w[i];
            softSum += tw;
            softDist += tw * (max - x[i]);
        }
        return (sum, softSum, softDist);
    }

    // ---- backward ----

    /// <summary>
    /// The coefficients of dx_c = A·softmax_c − B·w_c·u_c (u = 1 for index targets, t′ for soft
    /// ones) and of the extra −Hit at the target class.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (float A, float B, float Hit) Coefficients(in CrossEntropyProblem p, int pos, float aux, float scale)
    {
        if (p.Soft != null) return (scale * aux, scale, 0f);
        if (p.Index[pos] == p.IgnoreIndex) return (0f, 0f, 0f);
        float eps = p.Smoothing, perClass = eps / p.Layout.Axis;
        return (scale * ((1f - eps) * aux + perClass * p.WeightSum), scale * perClass, scale * (1f - eps) * aux);
    }

    private static void BackwardRow(in CrossEntropyProblem p, int pos, float lse, float aux, float scale, float* dx, float* dt)
    {
        int c = p.Layout.Axis;
        long o = (long)pos * c;
        float* x = p.Logits + o;
        var (a, b, hit) = Coefficients(p, pos, aux, scale);
        float keep = 1f - p.Smoothing, spread = p.Smoothing / c;
        if (dx != null)
        {
            if (p.Soft != null) GradRowSoft(x, p.Soft + o, p.Weight, dx + o, c, lse, a, b, keep, spread);
            else
            {
                GradRowIndex(x, p.Weight, dx + o, c, lse, a, b);
                if (hit != 0f) dx[o + p.Index[pos]] -= hit;
            }
        }
        if (dt != null) TargetGradRow(x, p.Weight, dt + o, c, lse, scale * keep);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void GradRowIndex(float* x, float* w, float* g, int n, float lse, float a, float b)
    {
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            Vector512<float> vl = Vector512.Create(lse), va = Vector512.Create(a), vb = Vector512.Create(b);
            for (; i <= n - 16; i += 16)
                Vector512.Store(va * Vector512.Exp(Vector512.Load(x + i) - vl) - vb * Vector512.Load(w + i), g + i);
        }
        for (; i < n; i++) g[i] = a * MathF.Exp(x[i] - lse) - b * w[i];
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void GradRowSoft(float* x, float* t, float* w, float* g, int n, float lse, float a, float b, float keep, float spread)
    {
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            Vector512<float> vl = Vector512.Create(lse), va = Vector512.Create(a), vb = Vector512.Create(b), vk = Vector512.Create(keep), vs = Vector512.Create(spread);
            for (; i <= n - 16; i += 16)
            {
                var u = Vector512.FusedMultiplyAdd(Vector512.Load(t + i), vk, vs) * Vector512.Load(w + i);
                Vector512.Store(va * Vector512.Exp(Vector512.Load(x + i) - vl) - vb * u, g + i);
            }
        }
        for (; i < n; i++) g[i] = a * MathF.Exp(x[i] - lse) - b * ((t[i] * keep + spread) * w[i]);
    }

    /// <summary>dt = s·w·(lse − x): the derivative of Σ w·t′·(lse − x) in t, with s carrying (1 − ε).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void TargetGradRow(float* x, float* w, float* dt, int n, float lse, float s)
    {
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            Vector512<float> vl = Vector512.Create(lse), vs = Vector512.Create(s);
            for (; i <= n - 16; i += 16) Vector512.Store(vs * Vector512.Load(w + i) * (vl - Vector512.Load(x + i)), dt + i);
        }
        for (; i < n; i++) dt[i] = s * w[i] * (lse - x[i]);
    }

    private static void BackwardColumns(in CrossEntropyProblem p, int o, int i0, int i1, float* lse, float* aux, float* scale, int scaleStride, float* dx, float* dt)
    {
        var l = p.Layout;
        int c = l.Axis, inner = l.Inner;
        long baseOffset = (long)o * c * inner;
        float* xb = p.Logits + baseOffset;
        float* tb = p.Soft == null ? null : p.Soft + baseOffset;
        float* gb = dx == null ? null : dx + baseOffset;
        float* db = dt == null ? null : dt + baseOffset;
        float keep = 1f - p.Smoothing, spread = p.Smoothing / c;
        var coef = stackalloc float[48];
        int i = i0;
        if (Vector512.IsHardwareAccelerated)
        {
            for (; i <= i1 - 16; i += 16)
            {
                int pos0 = o * inner + i;
                for (int lane = 0; lane < 16; lane++)
                {
                    int pos = pos0 + lane;
                    float s = scale[(long)pos * scaleStride];
                    (coef[lane], coef[16 + lane], coef[32 + lane]) = Coefficients(p, pos, aux[pos], s);
                    if (db != null) coef[32 + lane] = s * keep;
                }
                Vector512<float> vl = Vector512.Load(lse + pos0), va = Vector512.Load(coef), vb = Vector512.Load(coef + 16), vs = Vector512.Load(coef + 32);
                for (int k = 0; k < c; k++)
                {
                    long e = (long)k * inner + i;
                    var v = Vector512.Load(xb + e);
                    if (gb != null)
                    {
                        var u = tb == null ? Vector512.Create(p.Weight[k]) : Vector512.FusedMultiplyAdd(Vector512.Load(tb + e), Vector512.Create(keep), Vector512.Create(spread)) * p.Weight[k];
                        Vector512.Store(va * Vector512.Exp(v - vl) - vb * u, gb + e);
                    }
                    if (db != null) Vector512.Store(vs * p.Weight[k] * (vl - v), db + e);
                }
                if (gb != null && tb == null)
                    for (int lane = 0; lane < 16; lane++)
                    {
                        int pos = pos0 + lane;
                        var (_, _, hit) = Coefficients(p, pos, aux[pos], scale[(long)pos * scaleStride]);
                        if (hit != 0f) gb[p.Index[pos] * inner + i + lane] -= hit;
                    }
            }
        }
        for (; i < i1; i++)
        {
            int pos = o * inner + i;
            float s = scale[(long)pos * scaleStride];
            var (a, b, hit) = Coefficients(p, pos, aux[pos], s);
            float lv = lse[pos];
            for (int k = 0; k < c; k++)
            {
                long e = (long)k * inner + i;
                float v = xb[e];
                if (gb != null)
                {
                    float u = tb == null ? p.Weight[k] : (tb[e] * keep + spread) * p.Weight[k];
                    gb[e] = a * MathF.Exp(v - lv) - b * u;
                }
                if (db != null) db[e] = s * keep * p.Weight[k] * (lv - v);
            }
            if (gb != null && hit != 0f) gb[p.Index[pos] * inner + i] -= hit;
        }
    }
}
