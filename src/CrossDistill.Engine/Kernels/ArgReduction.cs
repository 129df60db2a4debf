using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace CrossDistill.Engine.Kernels;

/// <summary>Which element an arg-reduction keeps: strictly better wins, so the first of equal elements stays; NaN beats any number.</summary>
public interface IArgComparer
{
    bool Better(float candidate, float best);
    Vector256<float> Better(Vector256<float> candidate, Vector256<float> best);
    Vector512<float> Better(Vector512<float> candidate, Vector512<float> best);

    /// <summary>The winning value of a unit-stride row (NaN if the row has one).</summary>
    unsafe float Extreme(float* row, int n);
}

public struct ArgMaxComparer : IArgComparer
{
    public bool Better(float c, float b) => c > b || (float.IsNaN(c) && !float.IsNaN(b));
    public Vector256<float> Better(Vector256<float> c, Vector256<float> b) => Vector256.GreaterThan(c, b) | (Vector256.IsNaN(c) & ~Vector256.IsNaN(b));
    public Vector512<float> Better(Vector512<float> c, Vector512<float> b) => Vector512.GreaterThan(c, b) | (Vector512.IsNaN(c) & ~Vector512.IsNaN(b));
    public unsafe float Extreme(float* row, int n) => RowKernels.Max(row, n);
}

public struct ArgMinComparer : IArgComparer
{
    public bool Better(float c, float b) => c < b || (float.IsNaN(c) && !float.IsNaN(b));
    public Vector256<float> Better(Vector256<float> c, Vector256<float> b) => Vector256.LessThan(c, b) | (Vector256.IsNaN(c) & ~Vector256.IsNaN(b));
    public Vector512<float> Better(Vector512<float> c, Vector512<float> b) => Vector512.LessThan(c, b) | (Vector512.IsNaN(c) & ~Vector512.IsNaN(b));
    public unsafe float Extreme(float* row, int n) => RowKernels.Min(row, n);
}

/// <summary>
/// Max/min along one dim with the index of the first winner, over a dense tensor seen as
/// <see cref="DimSlices"/>. When the dim is innermost, each row is scanned twice (its extreme,
/// then the first position holding it); otherwise the scan runs across the inner elements in
/// vector lanes, one slice of the dim at a time, so every load is contiguous.
/// </summary>
public static unsafe class ArgReduction
{
    /// <summary>Writes outputs in [Outer, Inner] order; <paramref name="values"/> may be null.</summary>
    public static void Run<TCmp>(TCmp cmp, float* x, DimSlices s, float* values, long* indices) where TCmp : struct, IArgComparer
    {
        int outer = s.Outer, n = s.Size, inner = s.Inner;
        nint px = (nint)x, pv = (nint)values, pi = (nint)indices;
        if (inner == 1)
        {
            Workers.For(outer, Math.Max(1, (1 << 15) / n), (start, end) =>
            {
                for (int r = start; r < end; r++)
                {
                    float* row = (float*)px + (long)r * n;
                    float m = cmp.Extreme(row, n);
                    if (pv != 0) ((float*)pv)[r] = m;
                    ((long*)pi)[r] = RowKernels.IndexOf(row, n, m);
                }
            });
            return;
        }
        int lanes = Vector512.IsHardwareAccelerated ? 16 : 8;
        int blocks = (inner + lanes - 1) / lanes;
        Workers.For(outer * blocks, Math.Max(1, (1 << 15) / (n * lanes)), (start, end) =>
        {
            for (int t = start; t < end; t++)
            {
                int o = t / blocks, i0 = t % blocks * lanes, width = Math.Min(lanes, inner - i0);
                long outOffset = (long)o * inner + i0;
                Columns(cmp, (float*)px + (long)o * n * inner + i0, n, inner, width,
                    pv == 0 ? null : (float*)pv + outOffset, (long*)pi + outOffset);
            }
        });
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Columns<TCmp>(TCmp cmp, float* x, int n, int stride, int width, float* values, long* indices) where TCmp : struct, IArgComparer
    {
        int c = 0;
        if (Vector512.IsHardwareAccelerated && width - c >= 16)
        {
            var best = Vector512.Load(x);
            var index = Vector512<int>.Zero;
            for (int j = 1; j < n; j++)
            {
                var v = Vector512.Load(x + (long)j * stride);
                var take = cmp.Better(v, best);
                best = Vector512.ConditionalSelect(take, v, best);
                index = Vector512.ConditionalSelect(take.AsInt32(), Vector512.Create(j), index);
            }
            if (values != null) Vector512.Store(best, values);
            var (lo, hi) = Vector512.Widen(index);
            Vector512.Store(lo, indices);
            Vector512.Store(hi, indices + 8);
            c = 16;
        }
        if (Vector256.IsHardwareAccelerated && width - c >= 8)
        {
            var best = Vector256.Load(x + c);
            var index = Vector256<int>.Zero;
            for (int j = 1; j < n; j++)
            {
                var v = Vector256.Load(x + (long)j * stride + c);
                var take = cmp.Better(v, best);
                best = Vector256.ConditionalSelect(take, v, best);
                index = Vector256.ConditionalSelect(take.AsInt32(), Vector256.Create(j), index);
            }
            if (values != null) Vector256.Store(best, values + c);
            var (lo, hi) = Vector256.Widen(index);
            Vector256.Store(lo, indices + c);
            Vector256.Store(hi, indices + c + 4);
            c += 8;
        }
        for (; c < width; c++)
        {
            float best = x[c];
            int index = 0;
            for (int j = 1; j < n; j++)
            {
                float v = x[(long)j * stride + c];
                if (cmp.Better(v, best)) { best = v; index = j; }
            }
            if (values != null) values[c] = best;
            indices[c] = index;
        }
    }

    /// <summary>The gradient of values selected along a dim: each g lands on its recorded index, zeros elsewhere.</summary>
    public static Tensor ScatterGradient(Tensor g, Tensor indices, int[] inputShape, DimSlices s)
    {
        var keepShape = (int[])inputShape.Clone();
        if (keepShape.Length > 0) keepShape[s.Dim] = 1;
        using var gk = g.Rank == keepShape.Length ? g.Detach() : g.Unsqueeze(s.Dim);
        using var dense = DenseLayout.Conform(gk, keepShape, s.KeepStrides);
        var gx = Tensor.Empty((int[])inputShape.Clone(), (int[])s.Strides.Clone(), zero: true);
        float* src = dense.DataPtr, dst = gx.DataPtr;
        long* idx = indices.LongPtr;
        int n = s.Size, inner = s.Inner;
        for (int o = 0; o < s.Outer; o++)
            for (int i = 0; i < inner; i++)
            {
                long k = (long)o * inner + i;
                dst[((long)o * n + idx[k]) * inner + i] = src[k];
            }
        return gx;
    }
}
