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
    /// clamped at 0, in float; equal sizes copy straight through.
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
            float real = alignCorners ? scale * o : Math.Max(0f, scale * (o + 0.5f) - 0.5f);
            int low = (int)real;
            float lambda = real - low;
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
/// Bilinear resampling of row-major [planes, H, W, channels] data: scalar per element for one
/// channel (row-major NCHW planes), Vector512/Vector256 across channels for channels-last.
/// </summary>
internal static unsafe class Bilinear
{
    public static void Forward(float* x, float* output, int planes, int height, int width, int channels, LinearTaps rows, LinearTaps cols)
    {
        int outH = rows.Length, outW = cols.Length;
        if (planes == 0 || outH == 0 || outW == 0 || channels == 0) return;
        long inPlane = (long)height * width * channels, rowLength = (long)outW * channels;
        nint px = (nint)x, po = (nint)output;
        Workers.For(planes * outH, Math.Max(1, (int)((1 << 14) / rowLength)), (start, end) =>
        {
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
                    long l = (long)cols.Low[q] * channels, h = (long)cols.High[q] * channels;
                    float wl = cols.LowWeight[q], wh = cols.HighWeight[q];
                    float* o = dst + (long)q * channels;
                    int c = 0;
                    if (Vector512.IsHardwareAccelerated)
                    {
                        Vector512<float> vt = Vector512.Create(wt), vb = Vector512.Create(wb), vl = Vector512.Create(wl), vh = Vector512.Create(wh);
                        for (; c <= channels - 16; c += 16)
                        {
                            var upper = vl * Vector512.Load(top + l + c) + vh * Vector512.Load(top + h + c);
                            var lower = vl * Vector512.Load(bottom + l + c) + vh * Vector512.Load(bottom + h + c);
                            Vector512.Store(vt * upper + vb * lower, o + c);
                        }
                    }
                    for (; c < channels; c++)
                        o[c] = wt * (wl * top[l + c] + wh * top[h + c]) + wb * (wl * bottom[l + c] + wh * bottom[h + c]);
                }
            }
        });
    }

    /// <summary>
    /// Spreads each output gradient over its four sources. Work splits by plane and channel block,
    /// so every input element sums its contributions in output order on any number of threads.
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
                        if (len == 1)
                        {
                            float v = *gq;
                            top[l] += wt * wl * v;
                            top[h] += wt * wh * v;
                            bottom[l] += wb * wl * v;
                            bottom[h] += wb * wh * v;
                        }
                        else
                        {
                            ChannelMath.AddScaled(top + l, gq, wt * wl, len);
                            ChannelMath.AddScaled(top + h, gq, wt * wh, len);
                            ChannelMath.AddScaled(bottom + l, gq, wb * wl, len);
                            ChannelMath.AddScaled(bottom + h, gq, wb * wh, len);
                        }
                    }
                }
            }
        });
    }
}
