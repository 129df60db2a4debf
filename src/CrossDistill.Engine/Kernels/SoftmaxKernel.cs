using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace CrossDistill.Engine.Kernels;

/// <summary>
/// Fused softmax and log-softmax, forward and backward, along one dim of dense tensors seen as
/// <see cref="DimSlices"/> (input, output and gradients share one layout). When the dim is
/// innermost in memory each row is handled with unit-stride vector passes (max, exp-sum,
/// normalise); otherwise the passes run across the inner elements in vector lanes, stepping
/// through the dim with a stride, so loads stay contiguous. Rows (and lane blocks) are split
/// across workers; each result is computed by one thread in a fixed order.
/// </summary>
public static unsafe class SoftmaxKernel
{
    private const int ParallelWork = 1 << 14;

    public static void Forward(float* x, float* y, DimSlices s, bool log)
    {
        int outer = s.Outer, n = s.Size, inner = s.Inner;
        if (outer == 0 || n == 0 || inner == 0) return;
        nint px = (nint)x, py = (nint)y;
        if (inner == 1)
        {
            Workers.For(outer, Math.Max(1, ParallelWork / n), (start, end) =>
            {
                for (int r = start; r < end; r++)
                {
                    float* xr = (float*)px + (long)r * n, yr = (float*)py + (long)r * n;
                    float m = RowKernels.Max(xr, n);
                    if (log)
                    {
                        float logSum = (float)Math.Log(RowKernels.SumExp(xr, n, m));
                        ShiftRow(xr, yr, n, m, logSum);
                    }
                    else
                    {
                        double sum = RowKernels.ExpStore(xr, yr, n, m);
                        RowKernels.Scale(yr, yr, n, (float)(1.0 / sum));
                    }
                }
            });
            return;
        }
        ForEachLaneBlock(s, (o, c0, width) =>
        {
            long offset = (long)o * n * inner + c0;
            float* xb = (float*)px + offset, yb = (float*)py + offset;
            int c = 0;
            if (Vector512.IsHardwareAccelerated)
                for (; c <= width - 16; c += 16) ForwardLanes512(xb + c, yb + c, n, inner, log);
            if (Vector256.IsHardwareAccelerated)
                for (; c <= width - 8; c += 8) ForwardLanes256(xb + c, yb + c, n, inner, log);
            for (; c < width; c++) ForwardLane(xb + c, yb + c, n, inner, log);
        });
    }

    /// <summary>
    /// softmax: gx = y·(g - Σ g·y); log-softmax: gx = g - exp(y)·Σ g, the sums along the dim.
    /// </summary>
    public static void Backward(float* g, float* y, float* gx, DimSlices s, bool log)
    {
        int outer = s.Outer, n = s.Size, inner = s.Inner;
        if (outer == 0 || n == 0 || inner == 0) return;
        nint pg = (nint)g, py = (nint)y, pgx = (nint)gx;
        if (inner == 1)
        {
            Workers.For(outer, Math.Max(1, ParallelWork / n), (start, end) =>
            {
                for (int r = start; r < end; r++)
                {
                    long offset = (long)r * n;
                    float* gr = (float*)pg + offset, yr = (float*)py + offset, gxr = (float*)pgx + offset;
                    if (log) LogSoftmaxBackwardRow(gr, yr, gxr, n, (float)RowKernels.Sum(gr, n));
                    else SoftmaxBackwardRow(gr, yr, gxr, n, (float)RowKernels.Dot(gr, yr, n));
                }
            });
            return;
        }
        ForEachLaneBlock(s, (o, c0, width) =>
        {
            long offset = (long)o * n * inner + c0;
            float* gb = (float*)pg + offset, yb = (float*)py + offset, gxb = (float*)pgx + offset;
            int c = 0;
            if (Vector512.IsHardwareAccelerated)
                for (; c <= width - 16; c += 16) BackwardLanes512(gb + c, yb + c, gxb + c, n, inner, log);
            if (Vector256.IsHardwareAccelerated)
                for (; c <= width - 8; c += 8) BackwardLanes256(gb + c, yb + c, gxb + c, n, inner, log);
            for (; c < width; c++) BackwardLane(gb + c, yb + c, gxb + c, n, inner, log);
        });
    }

    /// <summary>Splits the (outer, inner) positions into blocks of up to 64 lanes for the workers.</summary>
    private static void ForEachLaneBlock(DimSlices s, Action<int, int, int> body)
    {
        const int BlockLanes = 64;
        int inner = s.Inner, blocks = (inner + BlockLanes - 1) / BlockLanes;
        Workers.For(s.Outer * blocks, Math.Max(1, ParallelWork / (s.Size * BlockLanes)), (start, end) =>
        {
            for (int t = start; t < end; t++)
            {
                int o = t / blocks, c0 = t % blocks * BlockLanes;
                body(o, c0, Math.Min(BlockLanes, inner - c0));
            }
        });
    }

    // ---------------------------------------------------------------- rows (unit stride)

    /// <summary>y = (x - max) - log Σ: subtracting the max first keeps the result exact for large |x|.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ShiftRow(float* x, float* y, int n, float max, float logSum)
    {
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            var m = Vector512.Create(max);
            var l = Vector512.Create(logSum);
            for (; i <= n - 16; i += 16) Vector512.Store(Vector512.Load(x + i) - m - l, y + i);
        }
        if (Vector256.IsHardwareAccelerated)
        {
            var m = Vector256.Create(max);
            var l = Vector256.Create(logSum);
            for (; i <= n - 8; i += 8) Vector256.Store(Vector256.Load(x + i) - m - l, y + i);
        }
        for (; i < n; i++) y[i] = x[i] - max - logSum;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void SoftmaxBackwardRow(float* g, float* y, float* gx, int n, float dot)
    {
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            var d = Vector512.Create(dot);
            for (; i <= n - 16; i += 16) Vector512.Store(Vector512.Load(y + i) * (Vector512.Load(g + i) - d), gx + i);
        }
        if (Vector256.IsHardwareAccelerated)
        {
            var d = Vector256.Create(dot);
            for (; i <= n - 8; i += 8) Vector256.Store(Vector256.Load(y + i) * (Vector256.Load(g + i) - d), gx + i);
        }
        for (; i < n; i++) gx[i] = y[i] * (g[i] - dot);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void LogSoftmaxBackwardRow(float* g, float* y, float* gx, int n, float sum)
    {
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            var s = Vector512.Create(sum);
            for (; i <= n - 16; i += 16) Vector512.Store(Vector512.Load(g + i) - Vector512.Exp(Vector512.Load(y + i)) * s, gx + i);
        }
        if (Vector256.IsHardwareAccelerated)
        {
            var s = Vector256.Create(sum);
            for (; i <= n - 8; i += 8) Vector256.Store(Vector256.Load(g + i) - Vector256.Exp(Vector256.Load(y + i)) * s, gx + i);
        }
        for (; i < n; i++) gx[i] = g[i] - MathF.Exp(y[i]) * sum;
    }

    // ---------------------------------------------------------------- lanes (the dim has stride `inner`)

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ForwardLanes512(float* x, float* y, int n, int stride, bool log)
    {
        var m = Vector512.Create(float.NegativeInfinity);
        for (int j = 0; j < n; j++) m = Vector512.Max(m, Vector512.Load(x + (long)j * stride));
        var sum = Vector512<float>.Zero;
        if (log)
        {
            for (int j = 0; j < n; j++) sum += Vector512.Exp(Vector512.Load(x + (long)j * stride) - m);
            var logSum = Vector512.Log(sum);
            for (int j = 0; j < n; j++) Vector512.Store(Vector512.Load(x + (long)j * stride) - m - logSum, y + (long)j * stride);
            return;
        }
        for (int j = 0; j < n; j++)
        {
            var e = Vector512.Exp(Vector512.Load(x + (long)j * stride) - m);
            Vector512.Store(e, y + (long)j * stride);
            sum += e;
        }
        var inv = Vector512<float>.One / sum;
        for (int j = 0; j < n; j++) Vector512.Store(Vector512.Load(y + (long)j * stride) * inv, y + (long)j * stride);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ForwardLanes256(float* x, float* y, int n, int stride, bool log)
    {
        var m = Vector256.Create(float.NegativeInfinity);
        for (int j = 0; j < n; j++) m = Vector256.Max(m, Vector256.Load(x + (long)j * stride));
        var sum = Vector256<float>.Zero;
        if (log)
        {
            for (int j = 0; j < n; j++) sum += Vector256.Exp(Vector256.Load(x + (long)j * stride) - m);
            var logSum = Vector256.Log(sum);
            for (int j = 0; j < n; j++) Vector256.Store(Vector256.Load(x + (long)j * stride) - m - logSum, y + (long)j * stride);
            return;
        }
        for (int j = 0; j < n; j++)
        {
            var e = Vector256.Exp(Vector256.Load(x + (long)j * stride) - m);
            Vector256.Store(e, y + (long)j * stride);
            sum += e;
        }
        var inv = Vector256<float>.One / sum;
        for (int j = 0; j < n; j++) Vector256.Store(Vector256.Load(y + (long)j * stride) * inv, y + (long)j * stride);
    }

    private static void ForwardLane(float* x, float* y, int n, int stride, bool log)
    {
        float m = float.NegativeInfinity;
        for (int j = 0; j < n; j++) m = MathF.Max(m, x[(long)j * stride]);
        float sum = 0f;
        if (log)
        {
            for (int j = 0; j < n; j++) sum += MathF.Exp(x[(long)j * stride] - m);
            float logSum = MathF.Log(sum);
            for (int j = 0; j < n; j++) y[(long)j * stride] = x[(long)j * stride] - m - logSum;
            return;
        }
        for (int j = 0; j < n; j++)
        {
            float e = MathF.Exp(x[(long)j * stride] - m);
            y[(long)j * stride] = e;
            sum += e;
        }
        float inv = 1f / sum;
        for (int j = 0; j < n; j++) y[(long)j * stride] *= inv;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void BackwardLanes512(float* g, float* y, float* gx, int n, int stride, bool log)
    {
        var acc = Vector512<float>.Zero;
        if (log)
        {
            for (int j = 0; j < n; j++) acc += Vector512.Load(g + (long)j * stride);
            for (int j = 0; j < n; j++)
            {
                long k = (long)j * stride;
                Vector512.Store(Vector512.Load(g + k) - Vector512.Exp(Vector512.Load(y + k)) * acc, gx + k);
            }
            return;
        }
        for (int j = 0; j < n; j++) acc = Vector512.FusedMultiplyAdd(Vector512.Load(g + (long)j * stride), Vector512.Load(y + (long)j * stride), acc);
        for (int j = 0; j < n; j++)
        {
            long k = (long)j * stride;
            Vector512.Store(Vector512.Load(y + k) * (Vector512.Load(g + k) - acc), gx + k);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void BackwardLanes256(float* g, float* y, float* gx, int n, int stride, bool log)
    {
        var acc = Vector256<float>.Zero;
        if (log)
        {
            for (int j = 0; j < n; j++) acc += Vector256.Load(g + (long)j * stride);
            for (int j = 0; j < n; j++)
            {
                long k = (long)j * stride;
                Vector256.Store(Vector256.Load(g + k) - Vector256.Exp(Vector256.Load(y + k)) * acc, gx + k);
            }
            return;
        }
        for (int j = 0; j < n; j++) acc = Vector256.FusedMultiplyAdd(Vector256.Load(g + (long)j * stride), Vector256.Load(y + (long)j * stride), acc);
        for (int j = 0; j < n; j++)
        {
            long k = (long)j * stride;
            Vector256.Store(Vector256.Load(y + k) * (Vector256.Load(g + k) - acc), gx + k);
        }
    }

    private static void BackwardLane(float* g, float* y, float* gx, int n, int stride, bool log)
    {
        float acc = 0f;
        if (log)
        {
            for (int j = 0; j < n; j++) acc += g[(long)j * stride];
            for (int j = 0; j < n; j++)
            {
                long k = (long)j * stride;
                gx[k] = g[k] - MathF.Exp(y[k]) * acc;
            }
            return;
        }
        for (int j = 0; j < n; j++) acc = MathF.FusedMultiplyAdd(g[(long)j * stride], y[(long)j * stride], acc);
        for (int j = 0; j < n; j++)
        {
            long k = (long)j * stride;
            gx[k] = y[k] * (g[k] - acc);
        }
    }
}
