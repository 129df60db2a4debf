using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace CrossDistill.Engine.Kernels;

/// <summary>
/// Depthwise convolution (one input channel per output channel) computed directly on NHWC data,
/// vectorised over channels: each tap is one fused multiply-add of 16 neighbouring channels. The
/// weight is packed tap-major, [KH·KW, C]. The input gradient gathers, for each input pixel, the
/// output pixels whose window covers it (a correlation with the flipped kernel), so threads never
/// write the same element; the weight gradient is a per-channel reduction split by channel blocks.
/// </summary>
internal static unsafe class DepthwiseConv
{
    /// <summary>y = depthwise(x) + bias over NHWC arrays; <paramref name="bias"/> may be null.</summary>
    public static void Forward(ConvGeometry g, float* x, float* w, float* bias, float* y)
    {
        var rowsOf = TapTable.Forward(g.OH, g.H, g.KH, g.StrideH, g.PadH, g.DilationH);
        var colsOf = TapTable.Forward(g.OW, g.W, g.KW, g.StrideW, g.PadW, g.DilationW);
        nint px = (nint)x, pw = (nint)w, pb = (nint)bias, py = (nint)y;
        int c = g.Cin;
        Workers.For(g.N * g.OH, Math.Max(1, (1 << 13) / Math.Max(g.OW * c * g.Taps, 1)), (start, end) =>
        {
            for (int r = start; r < end; r++)
            {
                int n = r / g.OH, oh = r % g.OH;
                float* image = (float*)px + (long)n * g.H * g.W * c;
                for (int ow = 0; ow < g.OW; ow++)
                    Accumulate(rowsOf, oh, colsOf, ow, g.KW, g.W, image, (float*)pw, (float*)pb, (float*)py + ((long)r * g.OW + ow) * c, c);
            }
        });
    }

    /// <summary>dx[n, ih, iw, c] = Σ over the outputs (oh, ow) that read (ih, iw) through tap (kh, kw) of dy[n, oh, ow, c]·w[kh, kw, c].</summary>
    public static void BackwardInput(ConvGeometry g, float* dy, float* w, float* dx)
    {
        var rowsOf = TapTable.Backward(g.H, g.OH, g.KH, g.StrideH, g.PadH, g.DilationH);
        var colsOf = TapTable.Backward(g.W, g.OW, g.KW, g.StrideW, g.PadW, g.DilationW);
        nint pdy = (nint)dy, pw = (nint)w, pdx = (nint)dx;
        int c = g.Cin;
        Workers.For(g.N * g.H, Math.Max(1, (1 << 13) / Math.Max(g.W * c * g.Taps, 1)), (start, end) =>
        {
            for (int r = start; r < end; r++)
            {
                int n = r / g.H, ih = r % g.H;
                float* image = (float*)pdy + (long)n * g.OH * g.OW * c;
                for (int iw = 0; iw < g.W; iw++)
                    Accumulate(rowsOf, ih, colsOf, iw, g.KW, g.OW, image, (float*)pw, null, (float*)pdx + ((long)r * g.W + iw) * c, c);
            }
        });
    }

    /// <summary>
    /// dst[c] = bias[c] + Σ over the listed (row, column) taps of src[row, column, c]·w[tap, c], for
    /// one pixel: the row taps of <paramref name="rowIndex"/> times the column taps of <paramref name="colIndex"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Accumulate(TapTable rowsOf, int rowIndex, TapTable colsOf, int colIndex, int kw, int srcWidth,
        float* src, float* w, float* bias, float* dst, int c)
    {
        int r0 = rowsOf.Start[rowIndex], r1 = rowsOf.Start[rowIndex + 1];
        int c0 = colsOf.Start[colIndex], c1 = colsOf.Start[colIndex + 1];
        int[] rowTap = rowsOf.Tap, rowAt = rowsOf.Index, colTap = colsOf.Tap, colAt = colsOf.Index;
        int ch = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            for (; ch <= c - 16; ch += 16)
            {
                var acc = bias is null ? Vector512<float>.Zero : Vector512.Load(bias + ch);
                for (int i = r0; i < r1; i++)
                {
                    float* srcRow = src + (long)rowAt[i] * srcWidth * c + ch;
                    float* wRow = w + rowTap[i] * kw * c + ch;
                    for (int j = c0; j < c1; j++)
                        acc = Vector512.FusedMultiplyAdd(Vector512.Load(srcRow + (long)colAt[j] * c), Vector512.Load(wRow + colTap[j] * c), acc);
                }
                Vector512.Store(acc, dst + ch);
            }
        }
        if (Vector256.IsHardwareAccelerated)
        {
            for (; ch <= c - 8; ch += 8)
            {
                var acc = bias is null ? Vector256<float>.Zero : Vector256.Load(bias + ch);
                for (int i = r0; i < r1; i++)
                {
                    float* srcRow = src + (long)rowAt[i] * srcWidth * c + ch;
                    float* wRow = w + rowTap[i] * kw * c + ch;
                    for (int j = c0; j < c1; j++)
                        acc = Vector256.FusedMultiplyAdd(Vector256.Load(srcRow + (long)colAt[j] * c), Vector256.Load(wRow + colTap[j] * c), acc);
                }
                Vector256.Store(acc, dst + ch);
            }
        }
        for (; ch < c; ch++)
        {
            float acc = bias is null ? 0f : bias[ch];
            for (int i = r0; i < r1; i++)
            {
                float* srcRow = src + (long)rowAt[i] * srcWidth * c + ch;
                float* wRow = w + rowTap[i] * kw * c + ch;
                for (int j = c0; j < c1; j++) acc = MathF.FusedMultiplyAdd(srcRow[(long)colAt[j] * c], wRow[colTap[j] * c], acc);
            }
            dst[ch] = acc;
        }
    }

    /// <summary>
    /// dw[tap, c] = Σ over all output pixels of dy[n, oh, ow, c]·x[n, ih, iw, c] (the input pixel
    /// that tap read). Each thread owns blocks of 16 channels and sums every pixel of them in a fixed
    /// order, so the result does not depend on the number of threads.
    /// </summary>
    public static void BackwardWeight(ConvGeometry g, float* x, float* dy, float* dw)
    {
        var rowsOf = TapTable.Forward(g.OH, g.H, g.KH, g.StrideH, g.PadH, g.DilationH);
        var colsOf = TapTable.Forward(g.OW, g.W, g.KW, g.StrideW, g.PadW, g.DilationW);
        nint px = (nint)x, pdy = (nint)dy, pdw = (nint)dw;
        int blocks = (g.Cin + 15) / 16;
        Workers.For(blocks, 1, (start, end) =>
        {
            var acc = new float[g.Taps * 16];
            for (int b = start; b < end; b++)
            {
                Array.Clear(acc);
                fixed (float* a = acc)
                {
                    int ch0 = b * 16, width = Math.Min(16, g.Cin - ch0);
                    ReduceBlock(g, rowsOf, colsOf, (float*)px + ch0, (float*)pdy + ch0, a, width);
                    for (int t = 0; t < g.Taps; t++)
                        new ReadOnlySpan<float>(a + t * 16, width).CopyTo(new Span<float>((float*)pdw + (long)t * g.Cin + ch0, width));
                }
            }
        });
    }

    /// <summary>Accumulates one block of up to 16 channels (x and dy point at the block's first channel) into acc[tap·16 + channel].</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ReduceBlock(in ConvGeometry g, TapTable rowsOf, TapTable colsOf, float* x, float* dy, float* acc, int width)
    {
        int c = g.Cin, kw = g.KW;
        bool full = width == 16 && Vector512.IsHardwareAccelerated;
        int[] rowTap = rowsOf.Tap, rowAt = rowsOf.Index, colTap = colsOf.Tap, colAt = colsOf.Index;
        for (int n = 0; n < g.N; n++)
        {
            float* image = x + (long)n * g.H * g.W * c;
            for (int oh = 0; oh < g.OH; oh++)
            {
                int r0 = rowsOf.Start[oh], r1 = rowsOf.Start[oh + 1];
                for (int ow = 0; ow < g.OW; ow++)
                {
                    float* grad = dy + (((long)n * g.OH + oh) * g.OW + ow) * c;
                    int c0 = colsOf.Start[ow], c1 = colsOf.Start[ow + 1];
                    if (full)
                    {
                        var gv = Vector512.Load(grad);
                        for (int i = r0; i < r1; i++)
                        {
                            float* xRow = image + (long)rowAt[i] * g.W * c;
                            float* accRow = acc + rowTap[i] * kw * 16;
                            for (int j = c0; j < c1; j++)
                            {
                                float* a = accRow + colTap[j] * 16;
                                Vector512.Store(Vector512.FusedMultiplyAdd(gv, Vector512.Load(xRow + (long)colAt[j] * c), Vector512.Load(a)), a);
                            }
                        }
                        continue;
                    }
                    for (int i = r0; i < r1; i++)
                    {
                        float* xRow = image + (long)rowAt[i] * g.W * c;
                        float* accRow = acc + rowTap[i] * kw * 16;
                        for (int j = c0; j < c1; j++)
                        {
                            float* a = accRow + colTap[j] * 16;
                            float* xv = xRow + (long)colAt[j] * c;
                            for (int ch = 0; ch < width; ch++) a[ch] = MathF.FusedMultiplyAdd(grad[ch], xv[ch], a[ch]);
                        }
                    }
                }
            }
        }
    }
}

/// <summary>
/// For each position along one spatial dim, the kernel taps that connect it to the other side of
/// the convolution and the index they connect to, precomputed so the inner loops have no bounds
/// checks: <see cref="Forward"/> lists, per output position, (tap, input index) pairs inside the
/// input; <see cref="Backward"/> lists, per input position, (tap, output index) pairs.
/// </summary>
internal sealed class TapTable
{
    /// <summary>Entries of position i are [Start[i], Start[i + 1]).</summary>
    public readonly int[] Start;
    public readonly int[] Tap;
    public readonly int[] Index;

    private TapTable(List<int> start, List<int> tap, List<int> index)
    {
        Start = start.ToArray();
        Tap = tap.ToArray();
        Index = index.ToArray();
    }

    public static TapTable Forward(int outSize, int inSize, int kernel, int stride, int pad, int dilation)
    {
        var start = new List<int> { 0 };
        var tap = new List<int>();
        var index = new List<int>();
        for (int o = 0; o < outSize; o++)
        {
            for (int k = 0; k < kernel; k++)
            {
                int i = o * stride - pad + k * dilation;
                if (i < 0 || i >= inSize) continue;
                tap.Add(k);
                index.Add(i);
            }
            start.Add(tap.Count);
        }
        return new TapTable(start, tap, index);
    }

    public static TapTable Backward(int inSize, int outSize, int kernel, int stride, int pad, int dilation)
    {
        var start = new List<int> { 0 };
        var tap = new List<int>();
        var index = new List<int>();
        for (int i = 0; i < inSize; i++)
        {
            for (int k = 0; k < kernel; k++)
            {
                int t = i + pad - k * dilation;
                if (t < 0 || t % stride != 0 || t / stride >= outSize) continue;
                tap.Add(k);
                index.Add(t / stride);
            }
            start.Add(tap.Count);
        }
        return new TapTable(start, tap, index);
    }
}
