using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace CrossDistill.Engine.Kernels;

/// <summary>
/// 12×32 tile with Vector512 FMAs: 24 zmm accumulators, 2 for the B row and 1 broadcast of A fit the
/// 32 registers without spilling. 12×32, 14×32, 6×64 and 8×48 all run at the FMA peak in L1 and
/// within a few percent of each other in whole GEMMs (see docs/PERFORMANCE.md). Edge tiles with at
/// most 6 rows or 16 columns run a cut-down instantiation that skips the unused half.
/// </summary>
internal unsafe struct MicroKernelAvx512 : IMicroKernel
{
    public static int MR => 12;
    public static int NR => 32;
    public static bool IsSupported => Vector512.IsHardwareAccelerated;

    public static void Run(int kc, float* a, float* b, float* c, long ldc, bool accumulate)
        => Tile<FullTile>(kc, a, b, c, ldc, accumulate);

    public static void RunEdge(int kc, float* a, float* b, float* tile, int rows, int cols)
    {
        if (rows <= 6)
        {
            if (cols <= 16) Tile<TopLeftQuarter>(kc, a, b, tile, NR, accumulate: false);
            else Tile<TopHalf>(kc, a, b, tile, NR, accumulate: false);
        }
        else if (cols <= 16) Tile<LeftHalf>(kc, a, b, tile, NR, accumulate: false);
        else Tile<FullTile>(kc, a, b, tile, NR, accumulate: false);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile<TShape>(int kc, float* a, float* b, float* c, long ldc, bool accumulate)
        where TShape : struct, ITileShape
    {
        var c0lo = Vector512<float>.Zero; var c0hi = Vector512<float>.Zero;
        var c1lo = Vector512<float>.Zero; var c1hi = Vector512<float>.Zero;
        var c2lo = Vector512<float>.Zero; var c2hi = Vector512<float>.Zero;
        var c3lo = Vector512<float>.Zero; var c3hi = Vector512<float>.Zero;
        var c4lo = Vector512<float>.Zero; var c4hi = Vector512<float>.Zero;
        var c5lo = Vector512<float>.Zero; var c5hi = Vector512<float>.Zero;
        var c6lo = Vector512<float>.Zero; var c6hi = Vector512<float>.Zero;
        var c7lo = Vector512<float>.Zero; var c7hi = Vector512<float>.Zero;
        var c8lo = Vector512<float>.Zero; var c8hi = Vector512<float>.Zero;
        var c9lo = Vector512<float>.Zero; var c9hi = Vector512<float>.Zero;
        var c10lo = Vector512<float>.Zero; var c10hi = Vector512<float>.Zero;
        var c11lo = Vector512<float>.Zero; var c11hi = Vector512<float>.Zero;
        for (int p = 0; p < kc; p++)
        {
            var bLo = Vector512.Load(b);
            var bHi = TShape.RightColumns ? Vector512.Load(b + 16) : default;
            var a0 = Vector512.Create(a[0]); c0lo = Vector512.FusedMultiplyAdd(a0, bLo, c0lo); if (TShape.RightColumns) c0hi = Vector512.FusedMultiplyAdd(a0, bHi, c0hi);
            var a1 = Vector512.Create(a[1]); c1lo = Vector512.FusedMultiplyAdd(a1, bLo, c1lo); if (TShape.RightColumns) c1hi = Vector512.FusedMultiplyAdd(a1, bHi, c1hi);
            var a2 = Vector512.Create(a[2]); c2lo = Vector512.FusedMultiplyAdd(a2, bLo, c2lo); if (TShape.RightColumns) c2hi = Vector512.FusedMultiplyAdd(a2, bHi, c2hi);
            var a3 = Vector512.Create(a[3]); c3lo = Vector512.FusedMultiplyAdd(a3, bLo, c3lo); if (TShape.RightColumns) c3hi = Vector512.FusedMultiplyAdd(a3, bHi, c3hi);
            var a4 = Vector512.Create(a[4]); c4lo = Vector512.FusedMultiplyAdd(a4, bLo, c4lo); if (TShape.RightColumns) c4hi = Vector512.FusedMultiplyAdd(a4, bHi, c4hi);
            var a5 = Vector512.Create(a[5]); c5lo = Vector512.FusedMultiplyAdd(a5, bLo, c5lo); if (TShape.RightColumns) c5hi = Vector512.FusedMultiplyAdd(a5, bHi, c5hi);
            if (TShape.LowerRows)
            {
                var a6 = Vector512.Create(a[6]); c6lo = Vector512.FusedMultiplyAdd(a6, bLo, c6lo); if (TShape.RightColumns) c6hi = Vector512.FusedMultiplyAdd(a6, bHi, c6hi);
                var a7 = Vector512.Create(a[7]); c7lo = Vector512.FusedMultiplyAdd(a7, bLo, c7lo); if (TShape.RightColumns) c7hi = Vector512.FusedMultiplyAdd(a7, bHi, c7hi);
                var a8 = Vector512.Create(a[8]); c8lo = Vector512.FusedMultiplyAdd(a8, bLo, c8lo); if (TShape.RightColumns) c8hi = Vector512.FusedMultiplyAdd(a8, bHi, c8hi);
                var a9 = Vector512.Create(a[9]); c9lo = Vector512.FusedMultiplyAdd(a9, bLo, c9lo); if (TShape.RightColumns) c9hi = Vector512.FusedMultiplyAdd(a9, bHi, c9hi);
                var a10 = Vector512.Create(a[10]); c10lo = Vector512.FusedMultiplyAdd(a10, bLo, c10lo); if (TShape.RightColumns) c10hi = Vector512.FusedMultiplyAdd(a10, bHi, c10hi);
                var a11 = Vector512.Create(a[11]); c11lo = Vector512.FusedMultiplyAdd(a11, bLo, c11lo); if (TShape.RightColumns) c11hi = Vector512.FusedMultiplyAdd(a11, bHi, c11hi);
            }
            a += 12;
            b += 32;
        }
        Store(c + 0 * ldc, c0lo, c0hi, accumulate, TShape.RightColumns);
        Store(c + 1 * ldc, c1lo, c1hi, accumulate, TShape.RightColumns);
        Store(c + 2 * ldc, c2lo, c2hi, accumulate, TShape.RightColumns);
        Store(c + 3 * ldc, c3lo, c3hi, accumulate, TShape.RightColumns);
        Store(c + 4 * ldc, c4lo, c4hi, accumulate, TShape.RightColumns);
        Store(c + 5 * ldc, c5lo, c5hi, accumulate, TShape.RightColumns);
        if (!TShape.LowerRows) return;
        Store(c + 6 * ldc, c6lo, c6hi, accumulate, TShape.RightColumns);
        Store(c + 7 * ldc, c7lo, c7hi, accumulate, TShape.RightColumns);
        Store(c + 8 * ldc, c8lo, c8hi, accumulate, TShape.RightColumns);
        Store(c + 9 * ldc, c9lo, c9hi, accumulate, TShape.RightColumns);
        Store(c + 10 * ldc, c10lo, c10hi, accumulate, TShape.RightColumns);
        Store(c + 11 * ldc, c11lo, c11hi, accumulate, TShape.RightColumns);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(float* row, Vector512<float> lo, Vector512<float> hi, bool accumulate, bool withHi)
    {
        if (accumulate)
        {
            lo += Vector512.Load(row);
            if (withHi) hi += Vector512.Load(row + 16);
        }
        lo.Store(row);
        if (withHi) hi.Store(row + 16);
    }
}
