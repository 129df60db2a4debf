using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace CrossDistill.Engine.Kernels;

/// <summary>
/// Average pooling over windows on row-major [planes, H, W, channels] data: the window sum divided
/// by the product of the row and column divisors (an empty window gives 0, as in PyTorch). One
/// channel (row-major NCHW planes) is summed separably: a vectorised pass adds the window rows
/// column by column, then each output adds its columns. Channels-last sums Vector512 lanes of
/// channels, 64 at a time.
/// </summary>
internal static unsafe class AvgPooling
{
    public static void Forward(float* x, float* output, int planes, int height, int width, int channels, PoolWindows rows, PoolWindows cols)
    {
        int outH = rows.Length, outW = cols.Length;
        if (planes == 0 || outH == 0 || outW == 0 || channels == 0) return;
        long inPlane = (long)height * width * channels, rowLength = (long)outW * channels;
        long work = rowLength * (rows.End[0] - rows.Start[0] + 1) * (cols.End[0] - cols.Start[0] + 1) + (channels == 1 ? width : 0);
        nint px = (nint)x, po = (nint)output;
        Workers.For(planes * outH, Math.Max(1, (int)((1 << 15) / Math.Max(1, work))), (start, end) =>
        {
            if (channels == 1)
            {
                var columns = ArrayPool<float>.Shared.Rent(width);
                fixed (float* sums = columns)
                    for (int t = start; t < end; t++)
                    {
                        int p = t / outH, r = t % outH;
                        PlaneRow((float*)px + p * inPlane, width, rows.Start[r], rows.End[r], rows.Divisor[r], cols, sums, (float*)po + t * rowLength);
                    }
                ArrayPool<float>.Shared.Return(columns);
                return;
            }
            for (int t = start; t < end; t++)
            {
                int p = t / outH, r = t % outH;
                float* plane = (float*)px + p * inPlane;
                float* dst = (float*)po + t * rowLength;
                int h0 = rows.Start[r], h1 = rows.End[r];
                for (int q = 0; q < outW; q++)
                {
                    int w0 = cols.Start[q], w1 = cols.End[q];
                    bool empty = h0 >= h1 || w0 >= w1;
                    float divisor = empty ? float.PositiveInfinity : (float)rows.Divisor[r] * cols.Divisor[q];
                    ChannelWindow(plane, width, channels, h0, h1, w0, w1, divisor, dst + (long)q * channels);
                }
            }
        });
    }

    private static void PlaneRow(float* plane, int width, int h0, int h1, int rowDivisor, PoolWindows cols, float* sums, float* dst)
    {
        int outW = cols.Length;
        if (h0 >= h1)
        {
            new Span<float>(dst, outW).Clear();
            return;
        }
        ColumnSums(plane, width, h0, h1, sums);
        for (int q = 0; q < outW; q++)
        {
            int w0 = cols.Start[q], w1 = cols.End[q];
            float sum = 0f;
            for (int iw = w0; iw < w1; iw++) sum += sums[iw];
            dst[q] = w0 >= w1 ? 0f : sum / ((float)rowDivisor * cols.Divisor[q]);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ColumnSums(float* plane, int width, int h0, int h1, float* sums)
    {
        Buffer.MemoryCopy(plane + (long)h0 * width, sums, (long)width * sizeof(float), (long)width * sizeof(float));
        for (int ih = h0 + 1; ih < h1; ih++) ChannelMath.Add(sums, plane + (long)ih * width, width);
    }

    /// <summary>Channel sums over one window divided by <paramref name="divisor"/> (∞ for an empty window gives 0).</summary>
    private static void ChannelWindow(float* plane, int width, int channels, int h0, int h1, int w0, int w1, float divisor, float* dst)
    {
        int c = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            var vd = Vector512.Create(divisor);
            for (; c <= channels - 64; c += 64)
            {
                Vector512<float> s0 = default, s1 = default, s2 = default, s3 = default;
                for (int ih = h0; ih < h1; ih++)
                    for (int iw = w0; iw < w1; iw++)
                    {
                        float* src = plane + ((long)ih * width + iw) * channels + c;
                        s0 += Vector512.Load(src);
                        s1 += Vector512.Load(src + 16);
                        s2 += Vector512.Load(src + 32);
                        s3 += Vector512.Load(src + 48);
                    }
                Vector512.Store(s0 / vd, dst + c);
                Vector512.Store(s1 / vd, dst + c + 16);
                Vector512.Store(s2 / vd, dst + c + 32);
                Vector512.Store(s3 / vd, dst + c + 48);
            }
            for (; c <= channels - 16; c += 16)
            {
                var sum = Vector512<float>.Zero;
                for (int ih = h0; ih < h1; ih++)
                    for (int iw = w0; iw < w1; iw++) sum += Vector512.Load(plane + ((long)ih * width + iw) * channels + c);
                Vector512.Store(sum / vd, dst + c);
            }
        }
        for (; c < channels; c++)
        {
            float sum = 0f;
            for (int ih = h0; ih < h1; ih++)
                for (int iw = w0; iw < w1; iw++) sum += plane[((long)ih * width + iw) * channels + c];
            dst[c] = sum / divisor;
        }
    }

    /// <summary>
    /// Adds g / divisor over each output's window. Work splits by plane and channel block, so each
    /// input element takes its contributions in output order on any number of threads. One channel
    /// spreads each output row across a column buffer first, then adds it to the window rows.
    /// </summary>
    public static void Backward(float* g, float* gx, int planes, int height, int width, int channels, PoolWindows rows, PoolWindows cols)
    {
        int outH = rows.Length, outW = cols.Length;
        if (planes == 0 || outH == 0 || outW == 0 || channels == 0) return;
        const int block = 64;
        int blocks = (channels + block - 1) / block;
        long inPlane = (long)height * width * channels, outPlane = (long)outH * outW * channels;
        nint pg = (nint)g, pgx = (nint)gx;
        Workers.For(planes * blocks, Math.Max(1, (int)((1 << 15) / Math.Max(1, outPlane / blocks))), (start, end) =>
        {
            if (channels == 1)
            {
                var buffer = ArrayPool<float>.Shared.Rent(width);
                fixed (float* spread = buffer)
                    for (int p = start; p < end; p++) PlaneBackward((float*)pg + p * outPlane, (float*)pgx + p * inPlane, width, rows, cols, spread);
                ArrayPool<float>.Shared.Return(buffer);
                return;
            }
            float* share = stackalloc float[block];
            for (int t = start; t < end; t++)
            {
                int p = t / blocks, c0 = t % blocks * block, len = Math.Min(block, channels - c0);
                float* plane = (float*)pgx + p * inPlane + c0;
                float* src = (float*)pg + p * outPlane + c0;
                for (int r = 0; r < outH; r++)
                {
                    int h0 = rows.Start[r], h1 = rows.End[r];
                    for (int q = 0; q < outW; q++)
                    {
                        int w0 = cols.Start[q], w1 = cols.End[q];
                        if (h0 >= h1 || w0 >= w1) continue;
                        float divisor = (float)rows.Divisor[r] * cols.Divisor[q];
                        float* gq = src + ((long)r * outW + q) * channels;
                        for (int c = 0; c < len; c++) share[c] = gq[c] / divisor;
                        for (int ih = h0; ih < h1; ih++)
                            for (int iw = w0; iw < w1; iw++) ChannelMath.Add(plane + ((long)ih * width + iw) * channels, share, len);
                    }
                }
            }
        });
    }

    private static void PlaneBackward(float* g, float* gx, int width, PoolWindows rows, PoolWindows cols, float* spread)
    {
        int outW = cols.Length;
        for (int r = 0; r < rows.Length; r++)
        {
            int h0 = rows.Start[r], h1 = rows.End[r];
            if (h0 >= h1) continue;
            new Span<float>(spread, width).Clear();
            float* gr = g + (long)r * outW;
            for (int q = 0; q < outW; q++)
            {
                int w0 = cols.Start[q], w1 = cols.End[q];
                if (w0 >= w1) continue;
                float share = gr[q] / ((float)rows.Divisor[r] * cols.Divisor[q]);
                for (int iw = w0; iw < w1; iw++) spread[iw] += share;
            }
            for (int ih = h0; ih < h1; ih++) ChannelMath.Add(gx + (long)ih * width, spread, width);
        }
    }
}
