using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace CrossDistill.Engine.Kernels;

/// <summary>
/// Depthwise convolution (one input channel per output channel) computed directly on NHWC data,
/// vectorised over channels: each tap is one fused multiply-add of 16 neighbouring channels, four
/// such blocks at a time. The weight is packed tap-major, [KH·KW, C]. For each pixel the taps
/// become a short list of element offsets (one list shared by all interior pixels). The input
/// gradient gathers, for each input pixel, the output pixels whose window covers it (a correlation
/// with the flipped kernel), so threads never write the same element. The weight gradient is a
/// per-channel reduction over pixels, summed per output row and then over a fixed number of row
/// chunks, so its rounding does not depend on the number of threads.
/// </summary>
internal static unsafe class DepthwiseConv
{
    /// <summary>y = depthwise(x) + bias over NHWC arrays; <paramref name="bias"/> may be null.</summary>
    public static void Forward(ConvGeometry g, float* x, float* w, float* bias, float* y)
    {
        FlopCounter.AddMultiplyAdds((long)g.OutputPixels * g.Cout * g.Taps);
        var rowsOf = TapTable.Forward(g.OH, g.H, g.KH, g.StrideH, g.PadH, g.DilationH);
        var colsOf = TapTable.Forward(g.OW, g.W, g.KW, g.StrideW, g.PadW, g.DilationW);
        var (interiorFirst, interiorEnd) = colsOf.FullRange(g.KW);
        nint px = (nint)x, pw = (nint)w, pb = (nint)bias, py = (nint)y;
        int c = g.Cin, oh = g.OH, ow = g.OW;
        Workers.For(g.N * oh, Math.Max(1, (1 << 13) / Math.Max(ow * c * g.Taps, 1)), (start, end) =>
        {
            // Offsets of every tap from the window's top-left input pixel, for windows inside the input.
            var interior = WindowOffsets(g, g.W, g.DilationH, g.DilationW, sign: 1);
            Span<long> srcOffsets = stackalloc long[g.Taps];
            Span<int> wOffsets = stackalloc int[g.Taps];
            fixed (long* so = srcOffsets)
            fixed (int* wo = wOffsets)
            fixed (long* io = interior.Src)
            fixed (int* iwo = interior.Weight)
                for (int r = start; r < end; r++)
                {
                    int n = r / oh, row = r % oh;
                    float* image = (float*)px + (long)n * g.H * g.W * c;
                    float* dstRow = (float*)py + (long)r * ow * c;
                    int col = 0;
                    if (rowsOf.Count(row) == g.KH)
                    {
                        float* top = image + (long)rowsOf.Index[rowsOf.Start[row]] * g.W * c;
                        for (; col < interiorFirst; col++)
                            AccumulateListed(rowsOf, row, colsOf, col, g.W, g.KW, image, (float*)pw, (float*)pb, dstRow + (long)col * c, c, so, wo);
                        for (; col + 4 <= interiorEnd; col += 4)
                            AccumulateFour(top + (long)(col * g.StrideW - g.PadW) * c, io, iwo, g.Taps, (long)g.StrideW * c, (float*)pw, (float*)pb, dstRow + (long)col * c, c);
                    }
                    for (; col < ow; col++)
                        AccumulateListed(rowsOf, row, colsOf, col, g.W, g.KW, image, (float*)pw, (float*)pb, dstRow + (long)col * c, c, so, wo);
                }
        });
    }

    /// <summary>dx[n, ih, iw, c] = Σ over the outputs (oh, ow) that read (ih, iw) through tap (kh, kw) of dy[n, oh, ow, c]·w[kh, kw, c].</summary>
    public static void BackwardInput(ConvGeometry g, float* dy, float* w, float* dx)
    {
        var rowsOf = TapTable.Backward(g.H, g.OH, g.KH, g.StrideH, g.PadH, g.DilationH);
        var colsOf = TapTable.Backward(g.W, g.OW, g.KW, g.StrideW, g.PadW, g.DilationW);
        // With stride 1 an input pixel whose every tap lands inside the output reads a fixed pattern
        // of output pixels around (ih + padH, iw + padW): those pixels run four at a time.
        bool unitStride = g.StrideH == 1 && g.StrideW == 1;
        var (interiorFirst, interiorEnd) = unitStride ? colsOf.FullRange(g.KW) : (0, 0);
        nint pdy = (nint)dy, pw = (nint)w, pdx = (nint)dx;
        int c = g.Cin, h = g.H, width = g.W;
        Workers.For(g.N * h, Math.Max(1, (1 << 13) / Math.Max(width * c * g.Taps, 1)), (start, end) =>
        {
            var interior = WindowOffsets(g, g.OW, g.DilationH, g.DilationW, sign: -1);
            Span<long> srcOffsets = stackalloc long[g.Taps];
            Span<int> wOffsets = stackalloc int[g.Taps];
            fixed (long* so = srcOffsets)
            fixed (int* wo = wOffsets)
            fixed (long* io = interior.Src)
            fixed (int* iwo = interior.Weight)
                for (int r = start; r < end; r++)
                {
                    int n = r / h, ih = r % h;
                    float* image = (float*)pdy + (long)n * g.OH * g.OW * c;
                    float* dstRow = (float*)pdx + (long)r * width * c;
                    int iw = 0;
                    if (unitStride && rowsOf.Count(ih) == g.KH)
                    {
                        float* anchorRow = image + (long)(ih + g.PadH) * g.OW * c;
                        for (; iw < interiorFirst; iw++)
                            AccumulateListed(rowsOf, ih, colsOf, iw, g.OW, g.KW, image, (float*)pw, null, dstRow + (long)iw * c, c, so, wo);
                        for (; iw + 4 <= interiorEnd; iw += 4)
                            AccumulateFour(anchorRow + (long)(iw + g.PadW) * c, io, iwo, g.Taps, c, (float*)pw, null, dstRow + (long)iw * c, c);
                    }
                    for (; iw < width; iw++)
                        AccumulateListed(rowsOf, ih, colsOf, iw, g.OW, g.KW, image, (float*)pw, null, dstRow + (long)iw * c, c, so, wo);
                }
        });
    }

    /// <summary>
    /// dw[tap, c] = Σ over all output pixels of dy[n, oh, ow, c]·x[n, ih, iw, c] (the input pixel
    /// that tap read). Rows of output pixels are cut into a fixed number of chunks (whatever the
    /// thread count); each chunk sums its rows tap by tap as strided dot products along the row, and
    /// the chunks' partial sums are added in order.
    /// </summary>
    public static void BackwardWeight(ConvGeometry g, float* x, float* dy, float* dw)
    {
        var rowsOf = TapTable.Forward(g.OH, g.H, g.KH, g.StrideH, g.PadH, g.DilationH);
        // For each kw, the output columns whose tap stays inside the input: [first, end).
        var columnRange = new (int First, int End)[g.KW];
        for (int kw = 0; kw < g.KW; kw++)
        {
            int first = g.OW, last = -1;
            for (int ow = 0; ow < g.OW; ow++)
            {
                int iw = ow * g.StrideW - g.PadW + kw * g.DilationW;
                if (iw < 0 || iw >= g.W) continue;
                first = Math.Min(first, ow);
                last = ow;
            }
            columnRange[kw] = (first, last + 1);
        }
        int rows = g.N * g.OH, c = g.Cin, perChunk = g.Taps * c;
        int chunks = Math.Clamp(rows, 1, 16);
        using var partialBuffer = Tensor.Empty([chunks * perChunk], zero: true);
        nint px = (nint)x, pdy = (nint)dy, pp = (nint)partialBuffer.DataPtr;
        Workers.For(chunks, 1, (start, end) =>
        {
            for (int chunk = start; chunk < end; chunk++)
            {
                float* partial = (float*)pp + (long)chunk * perChunk;
                for (int r = (int)((long)rows * chunk / chunks), rEnd = (int)((long)rows * (chunk + 1) / chunks); r < rEnd; r++)
                {
                    int n = r / g.OH, oh = r % g.OH;
                    for (int i = rowsOf.Start[oh]; i < rowsOf.Start[oh + 1]; i++)
                    {
                        int kh = rowsOf.Tap[i], ih = rowsOf.Index[i];
                        for (int kw = 0; kw < g.KW; kw++)
                        {
                            var (first, stop) = columnRange[kw];
                            if (first >= stop) continue;
                            int iw = first * g.StrideW - g.PadW + kw * g.DilationW;
                            float* gradRow = (float*)pdy + ((long)r * g.OW + first) * c;
                            float* inputRow = (float*)px + (((long)n * g.H + ih) * g.W + iw) * c;
                            AddStridedDots(gradRow, c, inputRow, (long)g.StrideW * c, stop - first, partial + (kh * g.KW + kw) * c, c);
                        }
                    }
                }
            }
        });
        float* sum = (float*)pp;
        new Span<float>(sum, perChunk).CopyTo(new Span<float>(dw, perChunk));
        for (int chunk = 1; chunk < chunks; chunk++)
        {
            float* part = sum + (long)chunk * perChunk;
            for (int j = 0; j < perChunk; j++) dw[j] += part[j];
        }
    }

    /// <summary>
    /// Element offsets of every tap (kh, kw) from an anchor pixel, ±(kh·stepH·width + kw·stepW)·C,
    /// and of its weights: the same for every pixel whose taps all land inside the source.
    /// </summary>
    private static (long[] Src, int[] Weight) WindowOffsets(in ConvGeometry g, int srcWidth, int stepH, int stepW, int sign)
    {
        var src = new long[g.Taps];
        var weight = new int[g.Taps];
        for (int kh = 0; kh < g.KH; kh++)
            for (int kw = 0; kw < g.KW; kw++)
            {
                int t = kh * g.KW + kw;
                src[t] = sign * ((long)kh * stepH * srcWidth + (long)kw * stepW) * g.Cin;
                weight[t] = t * g.Cin;
            }
        return (src, weight);
    }

    /// <summary>One pixel near a border: its taps listed, then accumulated.</summary>
    private static void AccumulateListed(TapTable rowsOf, int row, TapTable colsOf, int col, int srcWidth, int kw,
        float* src, float* w, float* bias, float* dst, int c, long* srcOffsets, int* wOffsets)
    {
        int count = TapList(rowsOf, row, colsOf, col, srcWidth, kw, c, srcOffsets, wOffsets);
        Accumulate(src, srcOffsets, wOffsets, count, w, bias, dst, c);
    }

    /// <summary>Lists the (source offset, weight offset) of the taps connecting one pixel; returns how many.</summary>
    private static int TapList(TapTable rowsOf, int row, TapTable colsOf, int col, int srcWidth, int kw, int c, long* src, int* weight)
    {
        int count = 0;
        int c0 = colsOf.Start[col], c1 = colsOf.Start[col + 1];
        for (int i = rowsOf.Start[row]; i < rowsOf.Start[row + 1]; i++)
        {
            long rowOffset = (long)rowsOf.Index[i] * srcWidth;
            int tapRow = rowsOf.Tap[i] * kw;
            for (int j = c0; j < c1; j++)
            {
                src[count] = (rowOffset + colsOf.Index[j]) * c;
                weight[count] = (tapRow + colsOf.Tap[j]) * c;
                count++;
            }
        }
        return count;
    }

    /// <summary>dst[ch] = bias[ch] + Σ over the listed taps of src[srcOffset + ch]·w[weightOffset + ch].</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Accumulate(float* src, long* srcOffsets, int* wOffsets, int count, float* w, float* bias, float* dst, int c)
    {
        int ch = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            for (; ch <= c - 64; ch += 64)
            {
                Vector512<float> a0, a1, a2, a3;
                if (bias is null) a0 = a1 = a2 = a3 = Vector512<float>.Zero;
                else
                {
                    a0 = Vector512.Load(bias + ch);
                    a1 = Vector512.Load(bias + ch + 16);
                    a2 = Vector512.Load(bias + ch + 32);
                    a3 = Vector512.Load(bias + ch + 48);
                }
                for (int t = 0; t < count; t++)
                {
                    float* s = src + srcOffsets[t] + ch, k = w + wOffsets[t] + ch;
                    a0 = Vector512.FusedMultiplyAdd(Vector512.Load(s), Vector512.Load(k), a0);
                    a1 = Vector512.FusedMultiplyAdd(Vector512.Load(s + 16), Vector512.Load(k + 16), a1);
                    a2 = Vector512.FusedMultiplyAdd(Vector512.Load(s + 32), Vector512.Load(k + 32), a2);
                    a3 = Vector512.FusedMultiplyAdd(Vector512.Load(s + 48), Vector512.Load(k + 48), a3);
                }
                Vector512.Store(a0, dst + ch);
                Vector512.Store(a1, dst + ch + 16);
                Vector512.Store(a2, dst + ch + 32);
                Vector512.Store(a3, dst + ch + 48);
            }
            for (; ch <= c - 16; ch += 16)
            {
                // Two chains (even and odd taps) so the adds do not wait on each other.
                var even = bias is null ? Vector512<float>.Zero : Vector512.Load(bias + ch);
                var odd = Vector512<float>.Zero;
                int t = 0;
                for (; t + 2 <= count; t += 2)
                {
                    even = Vector512.FusedMultiplyAdd(Vector512.Load(src + srcOffsets[t] + ch), Vector512.Load(w + wOffsets[t] + ch), even);
                    odd = Vector512.FusedMultiplyAdd(Vector512.Load(src + srcOffsets[t + 1] + ch), Vector512.Load(w + wOffsets[t + 1] + ch), odd);
                }
                if (t < count) even = Vector512.FusedMultiplyAdd(Vector512.Load(src + srcOffsets[t] + ch), Vector512.Load(w + wOffsets[t] + ch), even);
                Vector512.Store(even + odd, dst + ch);
            }
        }
        if (Vector256.IsHardwareAccelerated)
        {
            for (; ch <= c - 8; ch += 8)
            {
                var acc = bias is null ? Vector256<float>.Zero : Vector256.Load(bias + ch);
                for (int t = 0; t < count; t++)
                    acc = Vector256.FusedMultiplyAdd(Vector256.Load(src + srcOffsets[t] + ch), Vector256.Load(w + wOffsets[t] + ch), acc);
                Vector256.Store(acc, dst + ch);
            }
        }
        for (; ch < c; ch++)
        {
            float acc = bias is null ? 0f : bias[ch];
            for (int t = 0; t < count; t++) acc = MathF.FusedMultiplyAdd(src[srcOffsets[t] + ch], w[wOffsets[t] + ch], acc);
            dst[ch] = acc;
        }
    }

    /// <summary>
    /// <see cref="Accumulate"/> for four neighbouring pixels whose taps all land inside the source:
    /// pixel i reads <paramref name="origin"/> + i·<paramref name="pixelStride"/> + offset, and each
    /// weight vector loaded serves all four.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void AccumulateFour(float* origin, long* srcOffsets, int* wOffsets, int count, long pixelStride, float* w, float* bias, float* dst, int c)
    {
        int ch = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            for (; ch <= c - 16; ch += 16)
            {
                var a0 = bias is null ? Vector512<float>.Zero : Vector512.Load(bias + ch);
                Vector512<float> a1 = a0, a2 = a0, a3 = a0;
                for (int t = 0; t < count; t++)
                {
                    float* s = origin + srcOffsets[t] + ch;
                    var k = Vector512.Load(w + wOffsets[t] + ch);
                    a0 = Vector512.FusedMultiplyAdd(Vector512.Load(s), k, a0);
                    a1 = Vector512.FusedMultiplyAdd(Vector512.Load(s + pixelStride), k, a1);
                    a2 = Vector512.FusedMultiplyAdd(Vector512.Load(s + 2 * pixelStride), k, a2);
                    a3 = Vector512.FusedMultiplyAdd(Vector512.Load(s + 3 * pixelStride), k, a3);
                }
                Vector512.Store(a0, dst + ch);
                Vector512.Store(a1, dst + c + ch);
                Vector512.Store(a2, dst + 2 * c + ch);
                Vector512.Store(a3, dst + 3 * c + ch);
            }
        }
        if (Vector256.IsHardwareAccelerated)
        {
            for (; ch <= c - 8; ch += 8)
            {
                var a0 = bias is null ? Vector256<float>.Zero : Vector256.Load(bias + ch);
                Vector256<float> a1 = a0, a2 = a0, a3 = a0;
                for (int t = 0; t < count; t++)
                {
                    float* s = origin + srcOffsets[t] + ch;
                    var k = Vector256.Load(w + wOffsets[t] + ch);
                    a0 = Vector256.FusedMultiplyAdd(Vector256.Load(s), k, a0);
                    a1 = Vector256.FusedMultiplyAdd(Vector256.Load(s + pixelStride), k, a1);
                    a2 = Vector256.FusedMultiplyAdd(Vector256.Load(s + 2 * pixelStride), k, a2);
                    a3 = Vector256.FusedMultiplyAdd(Vector256.Load(s + 3 * pixelStride), k, a3);
                }
                Vector256.Store(a0, dst + ch);
                Vector256.Store(a1, dst + c + ch);
                Vector256.Store(a2, dst + 2 * c + ch);
                Vector256.Store(a3, dst + 3 * c + ch);
            }
        }
        for (; ch < c; ch++)
            for (int i = 0; i < 4; i++)
            {
                float acc = bias is null ? 0f : bias[ch];
                float* s = origin + i * pixelStride + ch;
                for (int t = 0; t < count; t++) acc = MathF.FusedMultiplyAdd(s[srcOffsets[t]], w[wOffsets[t] + ch], acc);
                dst[i * c + ch] = acc;
            }
    }

    /// <summary>acc[ch] += Σ over o &lt; count of a[o·c + ch]·b[o·bStride + ch], for ch &lt; c.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void AddStridedDots(float* a, int c, float* b, long bStride, int count, float* acc, int channels)
    {
        int ch = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            for (; ch <= channels - 64; ch += 64)
            {
                Vector512<float> s0 = Vector512<float>.Zero, s1 = s0, s2 = s0, s3 = s0;
                float* pa = a + ch, pb = b + ch;
                for (int o = 0; o < count; o++, pa += c, pb += bStride)
                {
                    s0 = Vector512.FusedMultiplyAdd(Vector512.Load(pa), Vector512.Load(pb), s0);
                    s1 = Vector512.FusedMultiplyAdd(Vector512.Load(pa + 16), Vector512.Load(pb + 16), s1);
                    s2 = Vector512.FusedMultiplyAdd(Vector512.Load(pa + 32), Vector512.Load(pb + 32), s2);
                    s3 = Vector512.FusedMultiplyAdd(Vector512.Load(pa + 48), Vector512.Load(pb + 48), s3);
                }
                Vector512.Store(Vector512.Load(acc + ch) + s0, acc + ch);
                Vector512.Store(Vector512.Load(acc + ch + 16) + s1, acc + ch + 16);
                Vector512.Store(Vector512.Load(acc + ch + 32) + s2, acc + ch + 32);
                Vector512.Store(Vector512.Load(acc + ch + 48) + s3, acc + ch + 48);
            }
            for (; ch <= channels - 16; ch += 16)
            {
                // Four chains over o mod 4, so the adds do not wait on each other.
                Vector512<float> s0 = Vector512<float>.Zero, s1 = s0, s2 = s0, s3 = s0;
                float* pa = a + ch, pb = b + ch;
                int o = 0;
                for (; o + 4 <= count; o += 4, pa += 4 * c, pb += 4 * bStride)
                {
                    s0 = Vector512.FusedMultiplyAdd(Vector512.Load(pa), Vector512.Load(pb), s0);
                    s1 = Vector512.FusedMultiplyAdd(Vector512.Load(pa + c), Vector512.Load(pb + bStride), s1);
                    s2 = Vector512.FusedMultiplyAdd(Vector512.Load(pa + 2 * c), Vector512.Load(pb + 2 * bStride), s2);
                    s3 = Vector512.FusedMultiplyAdd(Vector512.Load(pa + 3 * c), Vector512.Load(pb + 3 * bStride), s3);
                }
                for (; o < count; o++, pa += c, pb += bStride)
                    s0 = Vector512.FusedMultiplyAdd(Vector512.Load(pa), Vector512.Load(pb), s0);
                Vector512.Store(Vector512.Load(acc + ch) + ((s0 + s1) + (s2 + s3)), acc + ch);
            }
        }
        if (Vector256.IsHardwareAccelerated)
        {
            for (; ch <= channels - 8; ch += 8)
            {
                var s0 = Vector256<float>.Zero;
                float* pa = a + ch, pb = b + ch;
                for (int o = 0; o < count; o++, pa += c, pb += bStride)
                    s0 = Vector256.FusedMultiplyAdd(Vector256.Load(pa), Vector256.Load(pb), s0);
                Vector256.Store(Vector256.Load(acc + ch) + s0, acc + ch);
            }
        }
        for (; ch < channels; ch++)
        {
            float s0 = 0f;
            for (int o = 0; o < count; o++) s0 = MathF.FusedMultiplyAdd(a[(long)o * c + ch], b[o * bStride + ch], s0);
            acc[ch] += s0;
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

    public int Count(int position) => Start[position + 1] - Start[position];

    /// <summary>The widest run [first, end) of positions that connect through all <paramref name="kernel"/> taps (empty when there is none).</summary>
    public (int First, int End) FullRange(int kernel)
    {
        int positions = Start.Length - 1, first = 0;
        while (first < positions && Count(first) != kernel) first++;
        int end = first;
        while (end < positions && Count(end) == kernel) end++;
        return (first, end);
    }
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
