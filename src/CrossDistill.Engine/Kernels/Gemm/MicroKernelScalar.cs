using System.Runtime.CompilerServices;

namespace CrossDistill.Engine.Kernels;

/// <summary>
/// 4×4 tile in plain floats: the portable fallback for machines without 256-bit SIMD. Sixteen
/// accumulators still give the CPU independent multiply-adds to overlap.
/// </summary>
internal unsafe struct MicroKernelScalar : IMicroKernel
{
    public static int MR => 4;
    public static int NR => 4;
    public static bool IsSupported => true;

    public static void RunEdge(int kc, float* a, float* b, float* tile, int rows, int cols) => Run(kc, a, b, tile, NR, accumulate: false);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(int kc, float* a, float* b, float* c, long ldc, bool accumulate)
    {
        float c00 = 0, c01 = 0, c02 = 0, c03 = 0, c10 = 0, c11 = 0, c12 = 0, c13 = 0;
        float c20 = 0, c21 = 0, c22 = 0, c23 = 0, c30 = 0, c31 = 0, c32 = 0, c33 = 0;
        for (int p = 0; p < kc; p++)
        {
            float b0 = b[0], b1 = b[1], b2 = b[2], b3 = b[3];
            float a0 = a[0], a1 = a[1], a2 = a[2], a3 = a[3];
            c00 += a0 * b0; c01 += a0 * b1; c02 += a0 * b2; c03 += a0 * b3;
            c10 += a1 * b0; c11 += a1 * b1; c12 += a1 * b2; c13 += a1 * b3;
            c20 += a2 * b0; c21 += a2 * b1; c22 += a2 * b2; c23 += a2 * b3;
            c30 += a3 * b0; c31 += a3 * b1; c32 += a3 * b2; c33 += a3 * b3;
            a += 4;
            b += 4;
        }
        Store(c, c00, c01, c02, c03, accumulate);
        Store(c + ldc, c10, c11, c12, c13, accumulate);
        Store(c + 2 * ldc, c20, c21, c22, c23, accumulate);
        Store(c + 3 * ldc, c30, c31, c32, c33, accumulate);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(float* row, float x0, float x1, float x2, float x3, bool accumulate)
    {
        if (accumulate)
        {
            x0 += row[0];
            x1 += row[1];
            x2 += row[2];
            x3 += row[3];
        }
        row[0] = x0;
        row[1] = x1;
        row[2] = x2;
        row[3] = x3;
    }
}
