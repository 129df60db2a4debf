using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace CrossDistill.Engine.Kernels;

/// <summary>
/// Copies blocks of op(A) and op(B) into the micro-panel order the kernels stream: A as
/// [panel][p][MR] and B as [panel][p][NR], zero-padded past the matrix edge so every tile runs the
/// full kernel. Both transposes of each operand are read here, never materialised.
/// </summary>
internal static unsafe class GemmPacking
{
    /// <summary>Packs rows×kc of A, where A(i, p) = a[i·rowStride + p·colStride].</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void PackA<TKernel>(float* a, long rowStride, long colStride, int rows, int kc, float* dst)
        where TKernel : struct, IMicroKernel
    {
        int mr = TKernel.MR;
        for (int i = 0; i < rows; i += mr)
        {
            float* src = a + i * rowStride;
            int valid = Math.Min(mr, rows - i);
            if (valid == mr && colStride == 1) Transpose(src, rowStride, mr, kc, dst);
            else if (valid == mr && rowStride == 1) CopyRows(src, colStride, mr, kc, dst);
            else PackEdge(src, rowStride, colStride, valid, mr, kc, dst);
            dst += (long)mr * kc;
        }
    }

    /// <summary>Packs kc×cols of B, where B(p, j) = b[p·rowStride + j·colStride].</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void PackB<TKernel>(float* b, long rowStride, long colStride, int kc, int cols, float* dst)
        where TKernel : struct, IMicroKernel
    {
        int nr = TKernel.NR;
        for (int j = 0; j < cols; j += nr)
        {
            float* src = b + j * colStride;
            int valid = Math.Min(nr, cols - j);
            // B's panel is A's transposed: swapping the strides reuses the same routines.
            if (valid == nr && colStride == 1) CopyRows(src, rowStride, nr, kc, dst);
            else if (valid == nr && rowStride == 1) Transpose(src, colStride, nr, kc, dst);
            else PackEdge(src, colStride, rowStride, valid, nr, kc, dst);
            dst += (long)nr * kc;
        }
    }

    /// <summary>dst[p·width + r] = src[p·stride + r]: each k step is a contiguous run.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void CopyRows(float* src, long stride, int width, int kc, float* dst)
    {
        for (int p = 0; p < kc; p++)
        {
            float* s = src + p * stride;
            float* d = dst + (long)p * width;
            int r = 0;
            if (Vector512.IsHardwareAccelerated)
                for (; r <= width - 16; r += 16) Vector512.Store(Vector512.Load(s + r), d + r);
            for (; r <= width - 8; r += 8) Vector256.Store(Vector256.Load(s + r), d + r);
            for (; r <= width - 4; r += 4) Vector128.Store(Vector128.Load(s + r), d + r);
            for (; r < width; r++) d[r] = s[r];
        }
    }

    /// <summary>dst[p·width + r] = src[r·stride + p]: each of the width lines is contiguous along k.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Transpose(float* src, long stride, int width, int kc, float* dst)
    {
        for (int r = 0; r < width; r++)
        {
            float* s = src + r * stride;
            float* d = dst + r;
            for (int p = 0; p < kc; p++) d[(long)p * width] = s[p];
        }
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
