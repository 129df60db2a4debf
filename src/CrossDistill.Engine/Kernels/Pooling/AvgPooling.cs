using System.Runtime.Intrinsics;

namespace CrossDistill.Engine.Kernels;

/// <summary>
/// Average pooling over windows on row-major [planes, H, W, channels] data: the window sum divided
/// by the product of the row and column divisors (an empty window gives 0, as in PyTorch). One
/// channel sums each window row as a contiguous run; channels-last sums Vector512 lanes of channels.
/// </summary>
internal static unsafe class AvgPooling
{
    public static void Forward(float* x, float* output, int planes, int height, int width, int channels, PoolWindows rows, PoolWindows cols)
    {
        int outH = rows.Length, outW = cols.Length;
        if (planes == 0 || outH == 0 || outW == 0 || channels == 0) return;
        long inPlane = (long)height * width * channels, rowLength = (long)outW * channels;
        long work = rowLength * (rows.End[0] - rows.Start[0] + 1) * (cols.End[0] - cols.Start[0] + 1);
        nint px = (nint)x, po = (nint)output;
        Workers.For(planes * outH, Math.Max(1, (int)((1 << 15) / Math.Max(1, work))), (start, end) =>
        {
            for (int t = start; t < end; t++)
            {
                int p = t / outH, r = t % outH;
                float* plane = (float*)px + p * inPlane;
                float* dst = (float*)po + t * rowLength;
                int h0 = rows.Start[r], h1 = rows.End[r];
                for (int q = 0; q < outW; q++)
                {
                    int w0 = cols.Start[q], w1 = cols.End[q];
                    float divisor = (float)rows.Divisor[r] * cols.Divisor[q];
                    bool empty = h0 >= h1 || w0 >= w1;
                    if (channels == 1)
                    {
                        float sum = 0f;
                        for (int ih = h0; ih < h1; ih++) sum += ChannelMath.Sum(plane + (long)ih * width + w0, w1 - w0);
                        dst[q] = empty ? 0f : sum / divisor;
                    }
                    else ChannelWindow(plane, width, channels, h0, h1, w0, w1, empty ? float.PositiveInfinity : divisor, dst + (long)q * channels);
                }
            }
        });
    }

    /// <summary>Channel sums over one window divided by <paramref name="divisor"/> (∞ for an empty window gives 0).</summary>
    private static void ChannelWindow(float* plane, int width, int channels, int h0, int h1, int w0, int w1, float divisor, float* dst)
    {
        int c = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            var vd = Vector512.Create(divisor);
            for (; c <= channels - 16; c += 16)
            {
                var sum = Vector512<float>.Zero;
                for (int ih = h0; ih < h1; ih++)
                {
                    float* row = plane + ((long)ih * width) * channels + c;
                    for (int iw = w0; iw < w1; iw++) sum += Vector512.Load(row + (long)iw * channels);
                }
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
    /// input element takes its contributions in output order on any number of threads.
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
                        if (channels == 1)
                        {
                            float v = *gq / divisor;
                            for (int ih = h0; ih < h1; ih++) ChannelMath.AddConstant(plane + (long)ih * width + w0, v, w1 - w0);
                            continue;
                        }
                        for (int c = 0; c < len; c++) share[c] = gq[c] / divisor;
                        for (int ih = h0; ih < h1; ih++)
                            for (int iw = w0; iw < w1; iw++) ChannelMath.Add(plane + ((long)ih * width + iw) * channels, share, len);
                    }
                }
            }
        });
    }
}
