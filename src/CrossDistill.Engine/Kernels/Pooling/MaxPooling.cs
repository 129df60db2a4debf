using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace CrossDistill.Engine.Kernels;

/// <summary>
/// Max pooling over windows on row-major [planes, H, W, channels] data, recording for every output
/// the flat position ih·W + iw of its maximum (the first one on ties; NaN wins, as in PyTorch).
/// One channel (a row-major NCHW plane) runs a scalar loop per output; channels-last runs across
/// the channels with Vector512 compares and blends.
/// </summary>
internal static unsafe class MaxPooling
{
    /// <param name="argmax">Where to store the positions, or null when no backward will run.</param>
    public static void Forward(float* x, float* output, int* argmax, int planes, int height, int width, int channels, PoolWindows rows, PoolWindows cols)
    {
        int outH = rows.Length, outW = cols.Length;
        if (planes == 0 || outH == 0 || outW == 0 || channels == 0) return;
        long inPlane = (long)height * width * channels, rowLength = (long)outW * channels;
        long work = rowLength * (rows.End[0] - rows.Start[0] + 1) * (cols.End[0] - cols.Start[0] + 1);
        nint px = (nint)x, po = (nint)output, pa = (nint)argmax;
        Workers.For(planes * outH, Math.Max(1, (int)((1 << 15) / Math.Max(1, work))), (start, end) =>
        {
            for (int t = start; t < end; t++)
            {
                int p = t / outH, r = t % outH;
                float* plane = (float*)px + p * inPlane;
                float* dst = (float*)po + t * rowLength;
                int* at = pa == 0 ? null : (int*)pa + t * rowLength;
                int h0 = rows.Start[r], h1 = rows.End[r];
                for (int q = 0; q < outW; q++)
                {
                    int w0 = cols.Start[q], w1 = cols.End[q];
                    if (channels == 1) dst[q] = PlaneWindow(plane, width, h0, h1, rows.Step, w0, w1, cols.Step, at == null ? null : at + q);
                    else ChannelWindow(plane, width, channels, h0, h1, rows.Step, w0, w1, cols.Step, dst + (long)q * channels, at == null ? null : at + (long)q * channels);
                }
            }
        });
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float PlaneWindow(float* plane, int width, int h0, int h1, int hs, int w0, int w1, int ws, int* argmax)
    {
        float best = float.NegativeInfinity;
        int bestAt = FirstTap(width, h0, h1, w0, w1);
        for (int ih = h0; ih < h1; ih += hs)
            for (int iw = w0; iw < w1; iw += ws)
            {
                int at = ih * width + iw;
                float v = plane[at];
                if (v > best || float.IsNaN(v)) { best = v; bestAt = at; }
            }
        if (argmax != null) *argmax = bestAt;
        return best;
    }

    private static void ChannelWindow(float* plane, int width, int channels, int h0, int h1, int hs, int w0, int w1, int ws, float* dst, int* argmax)
    {
        int first = FirstTap(width, h0, h1, w0, w1);
        int c = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            for (; c <= channels - 16; c += 16)
            {
                var best = Vector512.Create(float.NegativeInfinity);
                var bestAt = Vector512.Create(first);
                for (int ih = h0; ih < h1; ih += hs)
                    for (int iw = w0; iw < w1; iw += ws)
                    {
                        int at = ih * width + iw;
                        var v = Vector512.Load(plane + (long)at * channels + c);
                        var take = Vector512.GreaterThan(v, best) | ~Vector512.Equals(v, v);
                        best = Vector512.ConditionalSelect(take, v, best);
                        bestAt = Vector512.ConditionalSelect(take.AsInt32(), Vector512.Create(at), bestAt);
                    }
                Vector512.Store(best, dst + c);
                if (argmax != null) Vector512.Store(bestAt, argmax + c);
            }
        }
        if (Vector256.IsHardwareAccelerated)
        {
            for (; c <= channels - 8; c += 8)
            {
                var best = Vector256.Create(float.NegativeInfinity);
                var bestAt = Vector256.Create(first);
                for (int ih = h0; ih < h1; ih += hs)
                    for (int iw = w0; iw < w1; iw += ws)
                    {
                        int at = ih * width + iw;
                        var v = Vector256.Load(plane + (long)at * channels + c);
                        var take = Vector256.GreaterThan(v, best) | ~Vector256.Equals(v, v);
                        best = Vector256.ConditionalSelect(take, v, best);
                        bestAt = Vector256.ConditionalSelect(take.AsInt32(), Vector256.Create(at), bestAt);
                    }
                Vector256.Store(best, dst + c);
                if (argmax != null) Vector256.Store(bestAt, argmax + c);
            }
        }
        for (; c < channels; c++)
        {
            float best = float.NegativeInfinity;
            int bestAt = first;
            for (int ih = h0; ih < h1; ih += hs)
                for (int iw = w0; iw < w1; iw += ws)
                {
                    int at = ih * width + iw;
                    float v = plane[(long)at * channels + c];
                    if (v > best || float.IsNaN(v)) { best = v; bestAt = at; }
                }
            dst[c] = best;
            if (argmax != null) argmax[c] = bestAt;
        }
    }

    /// <summary>
    /// Where a window with no larger value (all -inf) records its maximum: its first tap, as PyTorch
    /// does, or -1 for a window with no tap inside the input (its gradient is dropped).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int FirstTap(int width, int h0, int h1, int w0, int w1) => h0 < h1 && w0 < w1 ? h0 * width + w0 : -1;

    /// <summary>
    /// gx[p, argmax, c] += g[p, o, c]. Work splits by plane and channel block, so each input element
    /// takes its contributions in output order on any number of threads.
    /// </summary>
    public static void Backward(float* g, int* argmax, float* gx, int planes, int height, int width, int channels, int outH, int outW)
    {
        if (planes == 0 || outH == 0 || outW == 0 || channels == 0) return;
        const int block = 64;
        int blocks = (channels + block - 1) / block;
        long inPlane = (long)height * width * channels, outPixels = (long)outH * outW, outPlane = outPixels * channels;
        nint pg = (nint)g, pa = (nint)argmax, pgx = (nint)gx;
        Workers.For(planes * blocks, Math.Max(1, (int)((1 << 15) / Math.Max(1, outPlane / blocks))), (start, end) =>
        {
            for (int t = start; t < end; t++)
            {
                int p = t / blocks, c0 = t % blocks * block, c1 = Math.Min(channels, c0 + block);
                float* dst = (float*)pgx + p * inPlane;
                float* src = (float*)pg + p * outPlane;
                int* at = (int*)pa + p * outPlane;
                if (channels == 1)
                {
                    for (long o = 0; o < outPixels; o++)
                        if (at[o] >= 0) dst[at[o]] += src[o];
                }
                else
                    for (long o = 0; o < outPixels; o++)
                    {
                        long row = o * channels;
                        for (int c = c0; c < c1; c++)
                            if (at[row + c] >= 0) dst[(long)at[row + c] * channels + c] += src[row + c];
                    }
            }
        });
    }
}
