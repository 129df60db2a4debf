using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace CrossDistill.Engine.Kernels;

/// <summary>
/// The im2col matrix of an NHWC input, built a band of rows at a time: row p holds the input
/// values output pixel p reads, ordered (group, kh, kw, channel) so that each tap copies a run of
/// neighbouring channels; padding reads as zero. <see cref="ScatterAdd"/> is its transpose
/// (col2im), adding a band of column gradients back into the input gradient.
/// </summary>
internal static unsafe class Im2Col
{
    /// <summary>Writes im2col rows [p0, p0 + rows) of the NHWC input <paramref name="x"/> to <paramref name="col"/> (row-major, <see cref="ConvGeometry.Columns"/> per row).</summary>
    public static void Gather(ConvGeometry g, float* x, int p0, int rows, float* col)
    {
        int columns = g.Columns;
        nint px = (nint)x, pc = (nint)col;
        Workers.For(rows, Math.Max(1, (1 << 14) / Math.Max(columns, 1)), (start, end) =>
        {
            for (int r = start; r < end; r++) GatherRow(g, (float*)px, p0 + r, (float*)pc + (long)r * columns);
        });
    }

    private static void GatherRow(in ConvGeometry g, float* x, int p, float* dst)
    {
        int pixels = g.OH * g.OW, c = g.Cin;
        int n = p / pixels, oh = p % pixels / g.OW, ow = p % g.OW;
        int ih0 = oh * g.StrideH - g.PadH, iw0 = ow * g.StrideW - g.PadW;
        float* image = x + (long)n * g.H * g.W * c;
        if (g.Groups == 1 && g.DilationW == 1)
        {
            // The taps of one kernel row read neighbouring pixels: one run of KW·C values, cut at the borders.
            int lo = Math.Clamp(-iw0, 0, g.KW), hi = Math.Clamp(g.W - iw0, lo, g.KW);
            for (int kh = 0; kh < g.KH; kh++, dst += g.KW * c)
            {
                int ih = ih0 + kh * g.DilationH;
                if ((uint)ih >= (uint)g.H)
                {
                    new Span<float>(dst, g.KW * c).Clear();
                    continue;
                }
                new Span<float>(dst, lo * c).Clear();
                new ReadOnlySpan<float>(image + ((long)ih * g.W + iw0 + lo) * c, (hi - lo) * c).CopyTo(new Span<float>(dst + lo * c, (hi - lo) * c));
                new Span<float>(dst + hi * c, (g.KW - hi) * c).Clear();
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
                    if ((uint)ih >= (uint)g.H || (uint)iw >= (uint)g.W) new Span<float>(dst, cg).Clear();
                    else new ReadOnlySpan<float>(image + ((long)ih * g.W + iw) * c + grp * cg, cg).CopyTo(new Span<float>(dst, cg));
                }
            }
    }

    /// <summary>
    /// Adds im2col rows [p0, p0 + rows) of <paramref name="col"/> into the NHWC input gradient
    /// <paramref name="dx"/>. Rows overlap in what they touch, so the work is split by channel
    /// instead: each thread owns a band of channels, and every element sums its contributions in row
    /// order whatever the split.
    /// </summary>
    public static void ScatterAdd(ConvGeometry g, float* col, int p0, int rows, float* dx)
    {
        int cg = g.CinPerGroup;
        int blocks = (cg + 15) / 16;
        int chunksPerGroup = Math.Clamp((Workers.Threads + g.Groups - 1) / g.Groups, 1, blocks);
        int width = (blocks + chunksPerGroup - 1) / chunksPerGroup * 16;
        chunksPerGroup = (cg + width - 1) / width;
        nint pc = (nint)col, px = (nint)dx;
        Workers.For(g.Groups * chunksPerGroup, 1, (start, end) =>
        {
            for (int unit = start; unit < end; unit++)
            {
                int grp = unit / chunksPerGroup, c0 = unit % chunksPerGroup * width;
                ScatterChannels(g, (float*)pc, p0, rows, (float*)px, grp, c0, Math.Min(cg, c0 + width) - c0);
            }
        });
    }

    private static void ScatterChannels(in ConvGeometry g, float* col, int p0, int rows, float* dx, int grp, int c0, int count)
    {
        int pixels = g.OH * g.OW, c = g.Cin, cg = g.CinPerGroup, columns = g.Columns;
        for (int r = 0; r < rows; r++)
        {
            int p = p0 + r;
            int n = p / pixels, oh = p % pixels / g.OW, ow = p % g.OW;
            int ih0 = oh * g.StrideH - g.PadH, iw0 = ow * g.StrideW - g.PadW;
            float* src = col + (long)r * columns + grp * g.GroupColumns + c0;
            float* image = dx + (long)n * g.H * g.W * c + grp * cg + c0;
            for (int kh = 0; kh < g.KH; kh++)
            {
                int ih = ih0 + kh * g.DilationH;
                if ((uint)ih >= (uint)g.H) continue;
                for (int kw = 0; kw < g.KW; kw++)
                {
                    int iw = iw0 + kw * g.DilationW;
                    if ((uint)iw >= (uint)g.W) continue;
                    AddInto(src + (kh * g.KW + kw) * cg, image + ((long)ih * g.W + iw) * c, count);
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AddInto(float* src, float* dst, int n)
    {
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
            for (; i <= n - 16; i += 16) Vector512.Store(Vector512.Load(dst + i) + Vector512.Load(src + i), dst + i);
        if (Vector256.IsHardwareAccelerated)
            for (; i <= n - 8; i += 8) Vector256.Store(Vector256.Load(dst + i) + Vector256.Load(src + i), dst + i);
        for (; i < n; i++) dst[i] += src[i];
    }
}
