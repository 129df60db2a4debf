using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CrossDistill.Engine.Kernels;

/// <summary>
/// Copies blocks of op(A) and op(B) into the micro-panel order the kernels stream: A as
/// [panel][p][MR] and B as [panel][p][NR], zero-padded past the matrix edge so every tile runs the
/// full kernel. Both transposes of each operand are read here, never materialised. Transposing
/// packs may write up to <see cref="Slack"/> floats past the packed block.
/// </summary>
internal static unsafe class GemmPacking
{
    /// <summary>Floats a packing buffer needs past its packed block (see <see cref="Transpose16x16"/>).</summary>
    public const int Slack = 16;

    /// <summary>Packs rows×kc of A, where A(i, p) = a[i·rowStride + p·colStride].</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void PackA<TKernel>(float* a, long rowStride, long colStride, int rows, int kc, float* dst)
        where TKernel : struct, IMicroKernel
        => Pack(a, rowStride, colStride, rows, TKernel.MR, kc, dst);

    /// <summary>Packs kc×cols of B, where B(p, j) = b[p·rowStride + j·colStride].</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void PackB<TKernel>(float* b, long rowStride, long colStride, int kc, int cols, float* dst)
        where TKernel : struct, IMicroKernel
        => Pack(b, colStride, rowStride, cols, TKernel.NR, kc, dst); // B's panels are A's with the strides swapped

    /// <summary>
    /// Packs lines×kc into panels of width lines, where line r at step p is src[r·lineStride + p·stepStride]:
    /// panel q holds dst[q·width·kc + p·width + r].
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Pack(float* src, long lineStride, long stepStride, int lines, int width, int kc, float* dst)
    {
        int panels = lines / width;
        int done = panels * width, rest = lines - done;
        float* edgeSrc = src + done * lineStride, edgeDst = dst + (long)panels * width * kc;
        if (stepStride == 1)
        {
            for (int q = 0; q < panels; q++)
                Transpose(src + q * width * lineStride, lineStride, width, width, kc, dst + (long)q * width * kc);
            if (rest > 0) Transpose(edgeSrc, lineStride, rest, width, kc, edgeDst);
        }
        else if (lineStride == 1)
        {
            CopyPanels(src, stepStride, width, panels, kc, dst);
            if (rest > 0) CopyEdge(edgeSrc, stepStride, rest, width, kc, edgeDst);
        }
        else
        {
            for (int q = 0; q < panels; q++)
                PackEdge(src + q * width * lineStride, lineStride, stepStride, width, width, kc, dst + (long)q * width * kc);
            if (rest > 0) PackEdge(edgeSrc, lineStride, stepStride, rest, width, kc, edgeDst);
        }
    }

    /// <summary>A partial panel of adjacent lines: valid floats per k step, the rest of the width zero.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void CopyEdge(float* src, long stepStride, int valid, int width, int kc, float* dst)
    {
        if (!Avx512F.IsSupported)
        {
            PackEdge(src, 1, stepStride, valid, width, kc, dst);
            return;
        }
        var indices = Vector512<int>.Indices;
        for (int p = 0; p < kc; p++)
        {
            float* s = src + p * stepStride;
            float* d = dst + (long)p * width;
            // Full 16-float stores; past the width they spill into the next step, rewritten in turn.
            for (int r = 0; r < width; r += 16)
            {
                var mask = Vector512.LessThan(indices, Vector512.Create(valid - r)).AsSingle();
                Avx512F.MaskLoad(s + r, mask, Vector512<float>.Zero).Store(d + r);
            }
        }
    }

    /// <summary>
    /// Panels whose lines are adjacent in memory: each k step is one contiguous run across all panels,
    /// so the source is read front to back (step-outer) while the panel writes stay in L1.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void CopyPanels(float* src, long stepStride, int width, int panels, int kc, float* dst)
    {
        long panelSize = (long)width * kc;
        for (int p = 0; p < kc; p++)
        {
            float* s = src + p * stepStride;
            float* d = dst + (long)p * width;
            for (int q = 0; q < panels; q++, s += width, d += panelSize)
            {
                int r = 0;
                if (Vector512.IsHardwareAccelerated)
                    for (; r <= width - 16; r += 16) Vector512.Store(Vector512.Load(s + r), d + r);
                for (; r <= width - 8; r += 8) Vector256.Store(Vector256.Load(s + r), d + r);
                for (; r <= width - 4; r += 4) Vector128.Store(Vector128.Load(s + r), d + r);
                for (; r < width; r++) d[r] = s[r];
            }
        }
    }

    /// <summary>
    /// dst[p·width + r] = src[r·stride + p] for the valid lines (each contiguous along k); lines from
    /// valid up to width are zeros.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Transpose(float* src, long stride, int valid, int width, int kc, float* dst)
    {
        int p = 0;
        if (Avx512F.IsSupported && width % 16 == 0)
        {
            for (; p <= kc - 16; p += 16)
                for (int r = 0; r < width; r += 16)
                {
                    int rows = Math.Clamp(valid - r, 0, 16);
                    if (rows > 0) Transpose16x16(src + r * stride + p, stride, rows, dst + (long)p * width + r, width);
                    else
                        for (int q = 0; q < 16; q++) Vector512<float>.Zero.Store(dst + (long)(p + q) * width + r);
                }
        }
        else if (Avx512F.IsSupported && width < 16)
        {
            // Each 16-float result row spills into the next, which is rewritten in turn.
            for (; p <= kc - 16; p += 16)
                Transpose16x16(src + p, stride, valid, dst + (long)p * width, width);
        }
        for (int r = 0; r < width; r++)
        {
            float* s = src + r * stride;
            float* d = dst + r;
            if (r < valid)
                for (int q = p; q < kc; q++) d[(long)q * width] = s[q];
            else
                for (int q = p; q < kc; q++) d[(long)q * width] = 0f;
        }
    }

    /// <summary>
    /// Transposes a 16×16 block: row q of the result (elements src[i·srcStride + q] for i &lt; 16, rows
    /// at or past <paramref name="rows"/> read as zero) goes to dst + q·dstStride. Rows are stored in
    /// ascending q as full 16-float vectors, so with dstStride &lt; 16 each store runs past its row into
    /// the next, which the next store then overwrites; the last one runs 16 − dstStride floats past
    /// the block (the packing buffers keep that slack).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Transpose16x16(float* src, long srcStride, int rows, float* dst, long dstStride)
    {
        var r0 = Vector512.Load(src);
        var r1 = 1 < rows ? Vector512.Load(src + 1 * srcStride) : Vector512<float>.Zero;
        var r2 = 2 < rows ? Vector512.Load(src + 2 * srcStride) : Vector512<float>.Zero;
        var r3 = 3 < rows ? Vector512.Load(src + 3 * srcStride) : Vector512<float>.Zero;
        var r4 = 4 < rows ? Vector512.Load(src + 4 * srcStride) : Vector512<float>.Zero;
        var r5 = 5 < rows ? Vector512.Load(src + 5 * srcStride) : Vector512<float>.Zero;
        var r6 = 6 < rows ? Vector512.Load(src + 6 * srcStride) : Vector512<float>.Zero;
        var r7 = 7 < rows ? Vector512.Load(src + 7 * srcStride) : Vector512<float>.Zero;
        var r8 = 8 < rows ? Vector512.Load(src + 8 * srcStride) : Vector512<float>.Zero;
        var r9 = 9 < rows ? Vector512.Load(src + 9 * srcStride) : Vector512<float>.Zero;
        var r10 = 10 < rows ? Vector512.Load(src + 10 * srcStride) : Vector512<float>.Zero;
        var r11 = 11 < rows ? Vector512.Load(src + 11 * srcStride) : Vector512<float>.Zero;
        var r12 = 12 < rows ? Vector512.Load(src + 12 * srcStride) : Vector512<float>.Zero;
        var r13 = 13 < rows ? Vector512.Load(src + 13 * srcStride) : Vector512<float>.Zero;
        var r14 = 14 < rows ? Vector512.Load(src + 14 * srcStride) : Vector512<float>.Zero;
        var r15 = 15 < rows ? Vector512.Load(src + 15 * srcStride) : Vector512<float>.Zero;
        // Pairs of rows interleaved within each 128-bit lane.
        var t0 = Avx512F.UnpackLow(r0, r1); var t1 = Avx512F.UnpackHigh(r0, r1);
        var t2 = Avx512F.UnpackLow(r2, r3); var t3 = Avx512F.UnpackHigh(r2, r3);
        var t4 = Avx512F.UnpackLow(r4, r5); var t5 = Avx512F.UnpackHigh(r4, r5);
        var t6 = Avx512F.UnpackLow(r6, r7); var t7 = Avx512F.UnpackHigh(r6, r7);
        var t8 = Avx512F.UnpackLow(r8, r9); var t9 = Avx512F.UnpackHigh(r8, r9);
        var t10 = Avx512F.UnpackLow(r10, r11); var t11 = Avx512F.UnpackHigh(r10, r11);
        var t12 = Avx512F.UnpackLow(r12, r13); var t13 = Avx512F.UnpackHigh(r12, r13);
        var t14 = Avx512F.UnpackLow(r14, r15); var t15 = Avx512F.UnpackHigh(r14, r15);
        // u[4g + c], lane L: column 4L + c of rows 4g..4g+3.
        var u0 = Avx512F.UnpackLow(t0.AsDouble(), t2.AsDouble()).AsSingle(); var u1 = Avx512F.UnpackHigh(t0.AsDouble(), t2.AsDouble()).AsSingle();
        var u2 = Avx512F.UnpackLow(t1.AsDouble(), t3.AsDouble()).AsSingle(); var u3 = Avx512F.UnpackHigh(t1.AsDouble(), t3.AsDouble()).AsSingle();
        var u4 = Avx512F.UnpackLow(t4.AsDouble(), t6.AsDouble()).AsSingle(); var u5 = Avx512F.UnpackHigh(t4.AsDouble(), t6.AsDouble()).AsSingle();
        var u6 = Avx512F.UnpackLow(t5.AsDouble(), t7.AsDouble()).AsSingle(); var u7 = Avx512F.UnpackHigh(t5.AsDouble(), t7.AsDouble()).AsSingle();
        var u8 = Avx512F.UnpackLow(t8.AsDouble(), t10.AsDouble()).AsSingle(); var u9 = Avx512F.UnpackHigh(t8.AsDouble(), t10.AsDouble()).AsSingle();
        var u10 = Avx512F.UnpackLow(t9.AsDouble(), t11.AsDouble()).AsSingle(); var u11 = Avx512F.UnpackHigh(t9.AsDouble(), t11.AsDouble()).AsSingle();
        var u12 = Avx512F.UnpackLow(t12.AsDouble(), t14.AsDouble()).AsSingle(); var u13 = Avx512F.UnpackHigh(t12.AsDouble(), t14.AsDouble()).AsSingle();
        var u14 = Avx512F.UnpackLow(t13.AsDouble(), t15.AsDouble()).AsSingle(); var u15 = Avx512F.UnpackHigh(t13.AsDouble(), t15.AsDouble()).AsSingle();
        // Gather lane L of u[c], u[4 + c], u[8 + c], u[12 + c] into result row 4L + c.
        var v0 = Avx512F.Shuffle4x128(u0, u4, 0x88); var w0 = Avx512F.Shuffle4x128(u0, u4, 0xDD);
        var x0 = Avx512F.Shuffle4x128(u8, u12, 0x88); var y0 = Avx512F.Shuffle4x128(u8, u12, 0xDD);
        var v1 = Avx512F.Shuffle4x128(u1, u5, 0x88); var w1 = Avx512F.Shuffle4x128(u1, u5, 0xDD);
        var x1 = Avx512F.Shuffle4x128(u9, u13, 0x88); var y1 = Avx512F.Shuffle4x128(u9, u13, 0xDD);
        var v2 = Avx512F.Shuffle4x128(u2, u6, 0x88); var w2 = Avx512F.Shuffle4x128(u2, u6, 0xDD);
        var x2 = Avx512F.Shuffle4x128(u10, u14, 0x88); var y2 = Avx512F.Shuffle4x128(u10, u14, 0xDD);
        var v3 = Avx512F.Shuffle4x128(u3, u7, 0x88); var w3 = Avx512F.Shuffle4x128(u3, u7, 0xDD);
        var x3 = Avx512F.Shuffle4x128(u11, u15, 0x88); var y3 = Avx512F.Shuffle4x128(u11, u15, 0xDD);
        Avx512F.Shuffle4x128(v0, x0, 0x88).Store(dst + 0 * dstStride);
        Avx512F.Shuffle4x128(v1, x1, 0x88).Store(dst + 1 * dstStride);
        Avx512F.Shuffle4x128(v2, x2, 0x88).Store(dst + 2 * dstStride);
        Avx512F.Shuffle4x128(v3, x3, 0x88).Store(dst + 3 * dstStride);
        Avx512F.Shuffle4x128(w0, y0, 0x88).Store(dst + 4 * dstStride);
        Avx512F.Shuffle4x128(w1, y1, 0x88).Store(dst + 5 * dstStride);
        Avx512F.Shuffle4x128(w2, y2, 0x88).Store(dst + 6 * dstStride);
        Avx512F.Shuffle4x128(w3, y3, 0x88).Store(dst + 7 * dstStride);
        Avx512F.Shuffle4x128(v0, x0, 0xDD).Store(dst + 8 * dstStride);
        Avx512F.Shuffle4x128(v1, x1, 0xDD).Store(dst + 9 * dstStride);
        Avx512F.Shuffle4x128(v2, x2, 0xDD).Store(dst + 10 * dstStride);
        Avx512F.Shuffle4x128(v3, x3, 0xDD).Store(dst + 11 * dstStride);
        Avx512F.Shuffle4x128(w0, y0, 0xDD).Store(dst + 12 * dstStride);
        Avx512F.Shuffle4x128(w1, y1, 0xDD).Store(dst + 13 * dstStride);
        Avx512F.Shuffle4x128(w2, y2, 0xDD).Store(dst + 14 * dstStride);
        Avx512F.Shuffle4x128(w3, y3, 0xDD).Store(dst + 15 * dstStride);
    }

    /// <summary>A partial panel: valid lines where line r, step p is src[r·lineStride + p·stepStride]; the rest zero.</summary>
    private static void PackEdge(float* src, long lineStride, long stepStride, int valid, int width, int kc, float* dst)
    {
        for (int p = 0; p < kc; p++)
        {
            float* d = dst + (long)p * width;
            int r = 0;
            for (; r < valid; r++) d[r] = src[r * lineStride + p * stepStride];
            for (; r < width; r++) d[r] = 0f;
        }
    }
}
