using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace CrossDistill.Engine.Kernels;

/// <summary>For each output position along an axis: the two input positions it blends and their weights.</summary>
internal sealed class LinearTaps
{
    public required int[] Low, High;
    public required float[] LowWeight, HighWeight;

    public int Length => Low.Length;

    /// <summary>
    /// PyTorch's rule: the source position is scale·dst (align_corners) or scale·(dst + ½) − ½
    /// clamped at 0, with the scale in float and the position in double (which fixes the weights
    /// bit for bit); equal sizes copy straight through.
    /// </summary>
    public static LinearTaps Create(int inSize, int outSize, bool alignCorners, double? scaleFactor)
    {
        var taps = new LinearTaps { Low = new int[outSize], High = new int[outSize], LowWeight = new float[outSize], HighWeight = new float[outSize] };
        float scale = alignCorners
            ? (outSize > 1 ? (float)(inSize - 1) / (outSize - 1) : 0f)
            : Resize.SourceScale(inSize, outSize, scaleFactor);
        for (int o = 0; o < outSize; o++)
        {
            if (inSize == outSize)
            {
                (taps.Low[o], taps.High[o], taps.LowWeight[o], taps.HighWeight[o]) = (o, o, 1f, 0f);
                continue;
            }
            // As PyTorch's CPU kernel: a float scale, the source position in double, only the weight rounded to float.
            double real = alignCorners ? (double)scale * o : Math.Max(0.0, scale * (o + 0.5) - 0.5);
            int low = (int)real;
            float lambda = (float)(real - low);
            taps.Low[o] = low;
            taps.High[o] = low + (low < inSize - 1 ? 1 : 0);
            taps.LowWeight[o] = 1f - lambda;
            taps.HighWeight[o] = lambda;
        }
        return taps;
    }
}

/// <summary>Source-index rules shared by the resizing kernels.</summary>
internal static class Resize
{
    /// <summary>Input step per output step: 1/scale_factor when one was given, else in/out (PyTorch's compute_scales_value).</summary>
    public static float SourceScale(int inSize, int outSize, double? scaleFactor)
        => scaleFactor is double s && s > 0 ? (float)(1.0 / s) : (float)inSize / outSize;

    /// <summary>PyTorch's legacy nearest: floor(dst · scale), with exact copies for equal and doubled sizes.</summary>
    public static int[] NearestSources(int inSize, int outSize, double? scaleFactor)
    {
        var sources = new int[outSize];
        float scale = SourceScale(inSize, outSize, scaleFactor);
        for (int o = 0; o < outSize; o++)
            sources[o] = outSize == inSize ? o
                : outSize == 2 * inSize ? o >> 1
                : Math.Min((int)MathF.Floor(o * scale), inSize - 1);
        return sources;
    }
}

/// <summary>
/// Bilinear resampling of row-major [planes, H, W, channels] data: separable for one channel
/// (row-major NCHW planes), Vector512 across channels for channels-last.
/// </summary>
internal static unsafe class Bilinear
{
    public static void Forward(float* x, float* output, int planes, int height, int width, int channels, LinearTaps rows, LinearTaps cols)
    {
        int outH = rows.Length, outW = cols.Length;
        if (planes == 0 || outH == 0 || outW == 0 || channels == 0) return;
        long inPlane = (long)height * width * channels, rowLength = (long)outW * channels;
        nint px = (nint)x, po = (nint)output;
        Workers.For(planes * outH, Math.Max(1, (int)((1 << 14) / (rowLength + width))), (start, end) =>
        {
            if (channels == 1)
            {
                // Separable: blend the two source rows across the full width, then pick columns.
                var buffer = ArrayPool<float>.Shared.Rent(width);
                fixed (float* blended = buffer, wl = cols.LowWeight, wh = cols.HighWeight)
                fixed (int* l = cols.Low, h = cols.High)
                    for (int t = start; t < end; t++)
                    {
                        int p = t / outH, r = t % outH;
                        float* plane = (float*)px + p * inPlane;
                        BlendRows(plane + (long)rows.Low[r] * width, plane + (long)rows.High[r] * width, rows.LowWeight[r], rows.HighWeight[r], blended, width);
                        float* dst = (float*)po + t * rowLength;
                        for (int q = 0; q < outW; q++) dst[q] = wl[q] * blended[l[q]] + wh[q] * blended[h[q]];
                    }
                ArrayPool<float>.Shared.Return(buffer);
                return;
            }
            for (int t = start; t < end; t++)
            {
                int p = t / outH, r = t % outH;
                float* plane = (float*)px + p * inPlane;
                float* top = plane + (long)rows.Low[r] * width * channels;
                float* bottom = plane + (long)rows.High[r] * width * channels;
                float wt = rows.LowWeight[r], wb = rows.HighWeight[r];
                float* dst = (float*)po + t * rowLength;
                for (int q = 0; q < outW; q++)
                {
                    float* tl = top + (long)cols.Low[q] * channels, th = top + (long)cols.High[q] * channels;
                    float* bl = bottom + (long)cols.Low[q] * channels, bh = bottom + (long)cols.High[q] * channels;
                    float wtl = wt * cols.LowWeight[q], wth = wt * cols.HighWeight[q], wbl = wb * cols.LowWeight[q], wbh = wb * cols.HighWeight[q];
                    float* o = dst + (long)q * channels;
                    int c = 0;
                    if (Vector512.IsHardwareAccelerated)
                    {
                        Vector512<float> a = Vector512.Create(wtl), b = Vector512.Create(wth), d = Vector512.Create(wbl), e = Vector512.Create(wbh);
                        for (; c <= channels - 16; c += 16)
                        {
                            var sum = a * Vector512.Load(tl + c);
                            sum = Vector512.FusedMultiplyAdd(b, Vector512.Load(th + c), sum);
                            sum = Vector512.FusedMultiplyAdd(d, Vector512.Load(bl + c), sum);
                            Vector512.Store(Vector512.FusedMultiplyAdd(e, Vector512.Load(bh + c), sum), o + c);
                        }
                    }
                    for (; c < channels; c++) o[c] = wtl * tl[c] + wth * th[c] + wbl * bl[c] + wbh * bh[c];
                }
            }
        });
    }

    /// <summary>dst[i] = a·top[i] + b·bottom[i].</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void BlendRows(float* top, float* bottom, float a, float b, float* dst, int n)
    {
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            Vector512<float> va = Vector512.Create(a), vb = Vector512.Create(b);
            for (; i <= n - 16; i += 16) Vector512.Store(va * Vector512.Load(top + i) + vb * Vector512.Load(bottom + i), dst + i);
        }
        for (; i < n; i++) dst[i] = a * top[i] + b * bottom[i];
    }

    /// <summary>
    /// Spreads each output gradient over its four sources. Work splits by plane and channel block,
    /// so every input element sums its contributions in output order on any number of threads.
    /// One channel spreads an output row across a column buffer, then adds it to the two source rows.
    /// </summary>
    public static void Backward(float* g, float* gx, int planes, int height, int width, int channels, LinearTaps rows, LinearTaps cols)
    {
        int outH = rows.Length, outW = cols.Length;
        if (planes == 0 || outH == 0 || outW == 0 || channels == 0) return;
        const int block = 64;
        int blocks = (channels + block - 1) / block;
        long inPlane = (long)height * width * channels, outPlane = (long)outH * outW * channels;
        nint pg = (nint)g, pgx = (nint)gx;
        Workers.For(planes * blocks, Math.Max(1, (int)((1 << 14) / Math.Max(1, outPlane / blocks))), (start, end) =>
        {
            if (channels == 1)
            {
                var buffer = ArrayPool<float>.Shared.Rent(width);
                fixed (float* spread = buffer, wl = cols.LowWeight, wh = cols.HighWeight)
                fixed (int* l = cols.Low, h = cols.High)
                    for (int p = start; p < end; p++)
                    {
                        float* plane = (float*)pgx + p * inPlane;
                        for (int r = 0; r < outH; r++)
                        {
                            new Span<float>(spread, width).Clear();
                            float* gr = (float*)pg + p * outPlane + (long)r * outW;
                            for (int q = 0; q < outW; q++)
                            {
                                spread[l[q]] += wl[q] * gr[q];
                                spread[h[q]] += wh[q] * gr[q];
                            }
                            ChannelMath.AddScaled(plane + (long)rows.Low[r] * width, spread, rows.LowWeight[r], width);
                            ChannelMath.AddScaled(plane + (long)rows.High[r] * width, spread, rows.HighWeight[r], width);
                        }
                    }
                ArrayPool<float>.Shared.Return(buffer);
                return;
            }
            for (int t = start; t < end; t++)
            {
                int p = t / blocks, c0 = t % blocks * block, len = Math.Min(block, channels - c0);
                float* plane = (float*)pgx + p * inPlane + c0;
                for (int r = 0; r < outH; r++)
                {
                    float* top = plane + (long)rows.Low[r] * width * channels;
                    float* bottom = plane + (long)rows.High[r] * width * channels;
                    float wt = rows.LowWeight[r], wb = rows.HighWeight[r];
                    float* src = (float*)pg + p * outPlane + (long)r * outW * channels + c0;
                    for (int q = 0; q < outW; q++)
                    {
                        long l = (long)cols.Low[q] * channels, h = (long)cols.High[q] * channels;
                        float wl = cols.LowWeight[q], wh = cols.HighWeight[q];
                        float* gq = src + (long)q * channels;
                        ChannelMath.AddScaled(top + l, gq, wt * wl, len);
                        ChannelMath.AddScaled(top + h, gq, wt * wh, len);
                        ChannelMath.AddScaled(bottom + l, gq, wb * wl, len);
                        ChannelMath.AddScaled(bottom + h, gq, wb * wh, len);
                    }
                }
            }
        });
    }
}
