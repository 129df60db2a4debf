using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CrossDistill.Engine.Kernels;

/// <summary>
/// 6×16 tile with Vector256 FMAs for AVX2 machines: 12 ymm accumulators, 2 for the B row and 1
/// broadcast of A use 15 of the 16 registers.
/// </summary>
internal unsafe struct MicroKernelAvx2 : IMicroKernel
{
    public static int MR => 6;
    public static int NR => 16;
    public static bool IsSupported => Vector256.IsHardwareAccelerated && Fma.IsSupported;

    public static void RunEdge(int kc, float* a, float* b, float* tile, int rows, int cols) => Run(kc, a, b, tile, NR, accumulate: false);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(int kc, float* a, float* b, float* c, long ldc, bool accumulate)
    {
        var c0lo = Vector256<float>.Zero; var c0hi = Vector256<float>.Zero;
        var c1lo = Vector256<float>.Zero; var c1hi = Vector256<float>.Zero;
        var c2lo = Vector256<float>.Zero; var c2hi = Vector256<float>.Zero;
        var c3lo = Vector256<float>.Zero; var c3hi = Vector256<float>.Zero;
        var c4lo = Vector256<float>.Zero; var c4hi = Vector256<float>.Zero;
        var c5lo = Vector256<float>.Zero; var c5hi = Vector256<float>.Zero;
        for (int p = 0; p < kc; p++)
        {
            var bLo = Vector256.Load(b + 0); var bHi = Vector256.Load(b + 8);
            var a0 = Vector256.Create(a[0]); c0lo = Vector256.FusedMultiplyAdd(a0, bLo, c0lo); c0hi = Vector256.FusedMultiplyAdd(a0, bHi, c0hi);
            var a1 = Vector256.Create(a[1]); c1lo = Vector256.FusedMultiplyAdd(a1, bLo, c1lo); c1hi = Vector256.FusedMultiplyAdd(a1, bHi, c1hi);
            var a2 = Vector256.Create(a[2]); c2lo = Vector256.FusedMultiplyAdd(a2, bLo, c2lo); c2hi = Vector256.FusedMultiplyAdd(a2, bHi, c2hi);
            var a3 = Vector256.Create(a[3]); c3lo = Vector256.FusedMultiplyAdd(a3, bLo, c3lo); c3hi = Vector256.FusedMultiplyAdd(a3, bHi, c3hi);
            var a4 = Vector256.Create(a[4]); c4lo = Vector256.FusedMultiplyAdd(a4, bLo, c4lo); c4hi = Vector256.FusedMultiplyAdd(a4, bHi, c4hi);
            var a5 = Vector256.Create(a[5]); c5lo = Vector256.FusedMultiplyAdd(a5, bLo, c5lo); c5hi = Vector256.FusedMultiplyAdd(a5, bHi, c5hi);
            a += 6;
            b += 16;
        }
        Store(c + 0 * ldc, c0lo, c0hi, accumulate);
        Store(c + 1 * ldc, c1lo, c1hi, accumulate);
        Store(c + 2 * ldc, c2lo, c2hi, accumulate);
        Store(c + 3 * ldc, c3lo, c3hi, accumulate);
        Store(c + 4 * ldc, c4lo, c4hi, accumulate);
        Store(c + 5 * ldc, c5lo, c5hi, accumulate);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(float* row, Vector256<float> lo, Vector256<float> hi, bool accumulate)
    {
        if (accumulate)
        {
            lo += Vector256.Load(row);
            hi += Vector256.Load(row + 8);
        }
        lo.Store(row);
        hi.Store(row + 8);
    }
}
