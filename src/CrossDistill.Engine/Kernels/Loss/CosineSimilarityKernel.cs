using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace CrossDistill.Engine.Kernels;

/// <summary>
/// Cosine similarity along one dim of two operands with one <see cref="AxisLayout"/>, as PyTorch
/// 1.13 computes it: cos = Σab / (n1·n2) with n = sqrt(max(Σx², eps²)). One pass reads both
/// operands for the three sums; the backward reads them once more to write both gradients.
/// When the dim is innermost the sums run along it; otherwise they run across 16 positions at a
/// time, walking the dim with a stride.
/// </summary>
internal static unsafe class CosineSimilarityKernel
{
    private const int Block = 256;

    /// <summary>cos per position, and for the backward cos and the clamped squared norms n1², n2² (rows of <paramref name="saved"/>, each Positions long).</summary>
    public static void Forward(float* a, float* b, AxisLayout l, float eps, float* cos, float* saved)
    {
        int positions = l.Positions;
        nint pa = (nint)a, pb = (nint)b, pc = (nint)cos, ps = (nint)saved;
        float eps2 = eps * eps;
        Run(l, (pos, offset, stride, count) =>
        {
            var sums = stackalloc float[48];
            Sums((float*)pa + offset, (float*)pb + offset, stride, l.Axis, count, sums);
            for (int k = 0; k < count; k++)
            {
                float n1 = MathF.Max(sums[16 + k], eps2), n2 = MathF.Max(sums[32 + k], eps2);
                float value = sums[k] / MathF.Sqrt(n1 * n2);
                ((float*)pc)[pos + k] = value;
                ((float*)ps)[pos + k] = value;
                ((float*)ps)[positions + pos + k] = n1;
                ((float*)ps)[2L * positions + pos + k] = n2;
            }
        });
    }

    /// <summary>
    /// da = g·(b/(n1·n2) − cos·a/n1²) and db = g·(a/(n1·n2) − cos·b/n2²) for the outputs that are
    /// not null; g is read with <paramref name="gradStride"/>. The clamp on the norms is not
    /// differentiated, as in PyTorch 1.13.
    /// </summary>
    public static void Backward(float* a, float* b, AxisLayout l, float* saved, float* g, int gradStride, float* da, float* db)
    {
        int positions = l.Positions;
        nint pa = (nint)a, pb = (nint)b, ps = (nint)saved, pg = (nint)g, pda = (nint)da, pdb = (nint)db;
        Run(l, (pos, offset, stride, count) =>
        {
            var coef = stackalloc float[48];
            for (int k = 0; k < count; k++)
            {
                float* s = (float*)ps;
                float cos = s[pos + k], n1 = s[positions + pos + k], n2 = s[2L * positions + pos + k];
                float gk = ((float*)pg)[(long)(pos + k) * gradStride];
                coef[k] = gk / MathF.Sqrt(n1 * n2);
                coef[16 + k] = gk * cos / n1;
                coef[32 + k] = gk * cos / n2;
            }
            Grads((float*)pa + offset, (float*)pb + offset, stride, l.Axis, count, coef,
                pda == 0 ? null : (float*)pda + offset, pdb == 0 ? null : (float*)pdb + offset);
        });
    }

    private unsafe delegate void PositionGroup(int position, long offset, int stride, int count);

    /// <summary>
    /// Calls <paramref name="body"/> for groups of positions: one position with its elements
    /// adjacent (dim innermost), or up to 16 adjacent positions with elements <c>Inner</c> apart.
    /// </summary>
    private static void Run(AxisLayout l, PositionGroup body)
    {
        if (l.AxisInnermost)
        {
            Workers.For(l.Positions, Math.Max(1, (1 << 14) / Math.Max(l.Axis, 1)), (start, end) =>
            {
                for (int pos = start; pos < end; pos++) body(pos, (long)pos * l.Axis, 1, 1);
            });
            return;
        }
        int blocks = (l.Inner + Block - 1) / Block;
        Workers.For(l.Outer * blocks, Math.Max(1, (1 << 14) / Math.Max(l.Axis * Block, 1)), (start, end) =>
        {
            for (int u = start; u < end; u++)
            {
                int o = u / blocks, i0 = u % blocks * Block, i1 = Math.Min(l.Inner, i0 + Block);
                for (int i = i0; i < i1; i += 16)
                    body(o * l.Inner + i, (long)o * l.Axis * l.Inner + i, l.Inner, Math.Min(16, i1 - i));
            }
        });
    }

    /// <summary>
    /// For <paramref name="count"/> positions (lanes) whose element k sits at lane + k·stride (one
    /// lane when stride is 1): Σab, Σa², Σb² into sums[0..16), [16..32), [32..48).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Sums(float* a, float* b, int stride, int n, int count, float* sums)
    {
        if (stride == 1)
        {
            int i = 0;
            float ab = 0f, aa = 0f, bb = 0f;
            if (Vector512.IsHardwareAccelerated && n >= 16)
            {
                Vector512<float> sab = default, saa = default, sbb = default;
                for (; i <= n - 16; i += 16)
                {
                    var va = Vector512.Load(a + i);
                    var vb = Vector512.Load(b + i);
                    sab = Vector512.FusedMultiplyAdd(va, vb, sab);
                    saa = Vector512.FusedMultiplyAdd(va, va, saa);
                    sbb = Vector512.FusedMultiplyAdd(vb, vb, sbb);
                }
                ab = Vector512.Sum(sab);
                aa = Vector512.Sum(saa);
                bb = Vector512.Sum(sbb);
            }
            for (; i < n; i++)
            {
                ab += a[i] * b[i];
                aa += a[i] * a[i];
                bb += b[i] * b[i];
            }
            sums[0] = ab;
            sums[16] = aa;
            sums[32] = bb;
            return;
        }
        if (Vector512.IsHardwareAccelerated && count == 16)
        {
            Vector512<float> sab = default, saa = default, sbb = default;
            for (int k = 0; k < n; k++)
            {
                var va = Vector512.Load(a + (long)k * stride);
                var vb = Vector512.Load(b + (long)k * stride);
                sab = Vector512.FusedMultiplyAdd(va, vb, sab);
                saa = Vector512.FusedMultiplyAdd(va, va, saa);
                sbb = Vector512.FusedMultiplyAdd(vb, vb, sbb);
            }
            Vector512.Store(sab, sums);
            Vector512.Store(saa, sums + 16);
            Vector512.Store(sbb, sums + 32);
            return;
        }
        for (int lane = 0; lane < count; lane++)
        {
            float ab = 0f, aa = 0f, bb = 0f;
            for (int k = 0; k < n; k++)
            {
                float va = a[(long)k * stride + lane], vb = b[(long)k * stride + lane];
                ab += va * vb;
                aa += va * va;
                bb += vb * vb;
            }
            sums[lane] = ab;
            sums[16 + lane] = aa;
            sums[32 + lane] = bb;
        }
    }

    /// <summary>da = α·b − β·a and db = α·a − γ·b per lane, with α, β, γ in coef[0..16), [16..32), [32..48).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Grads(float* a, float* b, int stride, int n, int count, float* coef, float* da, float* db)
    {
        if (stride == 1)
        {
            float alpha = coef[0], beta = coef[16], gamma = coef[32];
            int i = 0;
            if (Vector512.IsHardwareAccelerated)
            {
                Vector512<float> va = Vector512.Create(alpha), vbeta = Vector512.Create(beta), vg = Vector512.Create(gamma);
                for (; i <= n - 16; i += 16)
                {
                    var x = Vector512.Load(a + i);
                    var y = Vector512.Load(b + i);
                    if (da != null) Vector512.Store(va * y - vbeta * x, da + i);
                    if (db != null) Vector512.Store(va * x - vg * y, db + i);
                }
            }
            for (; i < n; i++)
            {
                if (da != null) da[i] = alpha * b[i] - beta * a[i];
                if (db != null) db[i] = alpha * a[i] - gamma * b[i];
            }
            return;
        }
        if (Vector512.IsHardwareAccelerated && count == 16)
        {
            Vector512<float> va = Vector512.Load(coef), vbeta = Vector512.Load(coef + 16), vg = Vector512.Load(coef + 32);
            for (int k = 0; k < n; k++)
            {
                long e = (long)k * stride;
                var x = Vector512.Load(a + e);
                var y = Vector512.Load(b + e);
                if (da != null) Vector512.Store(va * y - vbeta * x, da + e);
                if (db != null) Vector512.Store(va * x - vg * y, db + e);
            }
            return;
        }
        for (int lane = 0; lane < count; lane++)
            for (int k = 0; k < n; k++)
            {
                long e = (long)k * stride + lane;
                if (da != null) da[e] = coef[lane] * b[e] - coef[16 + lane] * a[e];
                if (db != null) db[e] = coef[lane] * a[e] - coef[32 + lane] * b[e];
            }
    }
}
