using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace CrossDistill.Engine.Kernels;

/// <summary>
/// The im2col matrix of an NHWC input, built a band of rows at a time: row p holds the input
/// values output pixel p reads, ordered (group, kh, kw, channel) so that each tap copies a run of
/// neighbouring channels; padding reads as zero. <see cref="Col2Im"/> is its transpose
/// (col2im), adding a band of column gradients back into the input gradient.
/// </summary>
internal static unsafe class Im2Col
{
    /// <summary>
    /// The row stride of a column buffer: <see cref="ConvGeometry.Columns"/> rounded up to 64 bytes,
    /// plus 64 bytes when rows one output row apart would sit a multiple of 4 KB apart: col2im reads
    /// rows that far apart together, and 4 KB-aligned addresses compete for the same L1 sets.
    /// </summary>
    public static int RowStride(in ConvGeometry g)
    {
        int stride = (g.Columns + 15) / 16 * 16;
        if ((long)stride * g.OW % 1024 == 0) stride += 16;
        return stride;
    }

    /// <summary>Writes im2col rows [p0, p0 + rows) of the NHWC input <paramref name="x"/> to <paramref name="col"/> (row-major, <paramref name="colStride"/> floats apart).</summary>
    public static void Gather(ConvGeometry g, float* x, int p0, int rows, float* col, int colStride)
    {
        nint px = (nint)x, pc = (nint)col;
        Workers.For(rows, Math.Max(1, (1 << 14) / Math.Max(g.Columns, 1)), (start, end) =>
        {
            int pixels = g.OH * g.OW, p = p0 + start;
            int n = p / pixels, oh = p % pixels / g.OW, ow = p % g.OW;
            for (int r = start; r < end; r++)
            {
                GatherRow(g, (float*)px, n, oh, ow, (float*)pc + (long)r * colStride);
                if (++ow < g.OW) continue;
                ow = 0;
                if (++oh < g.OH) continue;
                oh = 0;
                n++;
            }
        });
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void GatherRow(in ConvGeometry g, float* x, int n, int oh, int ow, float* dst)
    {
        int c = g.Cin;
        int ih0 = oh * g.StrideH - g.PadH, iw0 = ow * g.StrideW - g.PadW;
        float* image = x + (long)n * g.H * g.W * c;
        if (g.Groups == 1 && g.DilationW == 1)
        {
            // The taps of one kernel row read neighbouring pixels: one run of KW·C values, cut at the borders.
            int lo = Math.Clamp(-iw0, 0, g.KW), hi = Math.Clamp(g.W - iw0, lo, g.KW);
            int run = g.KW * c;
            for (int kh = 0; kh < g.KH; kh++, dst += run)
            {
                int ih = ih0 + kh * g.DilationH;
                if ((uint)ih >= (uint)g.H)
                {
                    Fill(dst, run);
                    continue;
                }
                Fill(dst, lo * c);
                Copy(image + ((long)ih * g.W + iw0 + lo) * c, dst + lo * c, (hi - lo) * c);
                Fill(dst + hi * c, (g.KW - hi) * c);
            }
            return;
        }
        int cg = g.CinPerGroup;
        for (int grp = 0; grp < g.Groups; grp++)
            for (int kh = 0; kh < g.KH; kh++)
            {
                int ih = ih0 + kh * g.DilationH;
                for (int kw = 0; kw < g.KW; kw++, dst += cg)
                {
                    int iw = iw0 + kw * g.DilationW;
                    if ((uint)ih >= (uint)g.H || (uint)iw >= (uint)g.W) Fill(dst, cg);
                    else Copy(image + ((long)ih * g.W + iw) * c + grp * cg, dst, cg);
                }
            }
    }

    /// <summary>Copies a run that is often short (3 channels × 3 taps in a stem): inline vector moves, memmove for long runs.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Copy(float* src, float* dst, int n)
    {
        if (n > 128)
        {
            new ReadOnlySpan<float>(src, n).CopyTo(new Span<float>(dst, n));
            return;
        }
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
            for (; i <= n - 16; i += 16) Vector512.Store(Vector512.Load(src + i), dst + i);
        if (Vector256.IsHardwareAccelerated)
            for (; i <= n - 8; i += 8) Vector256.Store(Vector256.Load(src + i), dst + i);
        for (; i < n; i++) dst[i] = src[i];
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Fill(float* dst, int n)
    {
        if (n > 128)
        {
            new Span<float>(dst, n).Clear();
            return;
        }
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
            for (; i <= n - 16; i += 16) Vector512.Store(Vector512<float>.Zero, dst + i);
        for (; i < n; i++) dst[i] = 0f;
    }

    /// <summary>
    /// Adds im2col rows [p0, p0 + rows) of <paramref name="col"/> into the NHWC input gradient
    /// <paramref name="dx"/>. Rows overlap in the input pixels they touch, so the work is a gather
    /// instead: each thread owns whole input rows, and each input pixel sums, in tap order, the
    /// column entries of the band's output pixels that read it, with one store per channel block.
    /// </summary>
    public static void Col2Im(ConvGeometry g, float* col, int colStride, int p0, int rows, float* dx)
    {
        if (rows <= 0) return;
        var rowsOf = TapTable.Backward(g.H, g.OH, g.KH, g.StrideH, g.PadH, g.DilationH);
        var colsOf = TapTable.Backward(g.W, g.OW, g.KW, g.StrideW, g.PadW, g.DilationW);
        // The input rows the band can reach: from the first output row's window to the last one's.
        int pixels = g.OH * g.OW, p1 = p0 + rows - 1;
        int nFirst = p0 / pixels, nLast = p1 / pixels;
        int ihFirst = Math.Max(0, p0 % pixels / g.OW * g.StrideH - g.PadH);
        int ihLast = Math.Min(g.H - 1, p1 % pixels / g.OW * g.StrideH - g.PadH + (g.KH - 1) * g.DilationH);
        long first = (long)nFirst * g.H + ihFirst, count = (long)nLast * g.H + ihLast - first + 1;
        if (count <= 0) return;
        nint pc = (nint)col, px = (nint)dx;
        Workers.For((int)count, Math.Max(1, (1 << 13) / Math.Max(g.W * g.Cin * g.Taps, 1)), (start, end) =>
        {
            for (int i = start; i < end; i++)
            {
                long row = first + i;
                int n = (int)(row / g.H), ih = (int)(row % g.H);
                for (int iw = 0; iw < g.W; iw++)
                    GatherPixel(g, rowsOf, colsOf, n, ih, iw, (float*)pc, colStride, p0, rows, (float*)px + ((row * g.W) + iw) * g.Cin);
            }
        });
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void GatherPixel(in ConvGeometry g, TapTable rowsOf, TapTable colsOf, int n, int ih, int iw, float* col, int colStride, int p0, int rows, float* dst)
    {
        // Where in the band each tap that reads this pixel left its column entries.
        Span<long> sources = stackalloc long[g.Taps];
        int count = 0, cg = g.CinPerGroup;
        for (int i = rowsOf.Start[ih]; i < rowsOf.Start[ih + 1]; i++)
        {
            int kh = rowsOf.Tap[i], rowBase = (n * g.OH + rowsOf.Index[i]) * g.OW - p0;
            for (int j = colsOf.Start[iw]; j < colsOf.Start[iw + 1]; j++)
            {
                int r = rowBase + colsOf.Index[j];
                if ((uint)r >= (uint)rows) continue;
                sources[count++] = (long)r * colStride + (kh * g.KW + colsOf.Tap[j]) * cg;
            }
        }
        if (count == 0) return;
        for (int grp = 0; grp < g.Groups; grp++)
        {
            float* src = col + grp * g.GroupColumns;
            float* d = dst + grp * cg;
            int c = 0;
            if (Vector512.IsHardwareAccelerated)
                for (; c <= cg - 16; c += 16)
                {
                    var acc = Vector512.Load(d + c);
                    for (int t = 0; t < count; t++) acc += Vector512.Load(src + sources[t] + c);
                    Vector512.Store(acc, d + c);
                }
            if (Vector256.IsHardwareAccelerated)
                for (; c <= cg - 8; c += 8)
                {
                    var acc = Vector256.Load(d + c);
                    for (int t = 0; t < count; t++) acc += Vector256.Load(src + sources[t] + c);
                    Vector256.Store(acc, d + c);
                }
            for (; c < cg; c++)
            {
                float acc = d[c];
                for (int t = 0; t < count; t++) acc += src[sources[t] + c];
                d[c] = acc;
            }
        }
    }
}
