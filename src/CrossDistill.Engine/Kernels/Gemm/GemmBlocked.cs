using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;

namespace CrossDistill.Engine.Kernels;

/// <summary>
/// The packed GotoBLAS/BLIS loop nest over one rectangle of C, on the calling thread. Loops, outer
/// to inner: row blocks of A (RowBlock rows), k-blocks (DepthBlock), column blocks of B
/// (ColumnBlock), then MR-row A micro-panels and NR-column B micro-panels. A micro-panel (MR×kc) stays
/// in L1 while the B micro-panels of a column block stream past it from L2.
/// </summary>
internal static unsafe class GemmBlocked
{
    /// <summary>Runs C[rowStart..rowEnd) × [colStart..colEnd) of the problem.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run<TKernel>(in GemmProblem p, int rowStart, int rowEnd, int colStart, int colEnd)
        where TKernel : struct, IMicroKernel
    {
        int mr = TKernel.MR, nr = TKernel.NR;
        int kBlocks = GemmBlocking.DepthBlocks(p.K);
        int kcMax = (p.K + kBlocks - 1) / kBlocks;
        int rowBlock = RoundUp(GemmBlocking.RowBlock, mr);
        int colBlock = RoundUp(GemmBlocking.ColumnBlock, nr);
        int rowsMax = Math.Min(rowBlock, RoundUp(rowEnd - rowStart, mr));
        int colsMax = Math.Min(colBlock, RoundUp(colEnd - colStart, nr));
        float* packedA = GemmBuffers.PackedA((long)rowsMax * kcMax + GemmPacking.Slack);
        float* packedB = GemmBuffers.PackedB((long)colsMax * kcMax + GemmPacking.Slack);
        float* tile = GemmBuffers.Scratch(mr * nr);

        for (int i0 = rowStart; i0 < rowEnd; i0 += rowBlock)
        {
            int rows = Math.Min(rowBlock, rowEnd - i0);
            for (int kb = 0; kb < kBlocks; kb++)
            {
                int p0 = (int)((long)p.K * kb / kBlocks), kc = (int)((long)p.K * (kb + 1) / kBlocks) - p0;
                GemmPacking.PackA<TKernel>(p.A + i0 * p.ARowStride + p0 * p.AColStride, p.ARowStride, p.AColStride, rows, kc, packedA);
                var writeBack = new GemmWriteBack(p.Alpha, kb == 0 ? p.Beta : 1f, kb == kBlocks - 1, p.Epilogue);
                for (int j0 = colStart; j0 < colEnd; j0 += colBlock)
                {
                    int cols = Math.Min(colBlock, colEnd - j0);
                    GemmPacking.PackB<TKernel>(p.B + p0 * p.BRowStride + j0 * p.BColStride, p.BRowStride, p.BColStride, kc, cols, packedB);
                    Macro<TKernel>(kc, packedA, rows, packedB, cols, p.C + i0 * p.Ldc + j0, p.Ldc, i0, j0, writeBack, tile);
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Macro<TKernel>(int kc, float* packedA, int rows, float* packedB, int cols,
        float* c, long ldc, int row0, int col0, in GemmWriteBack writeBack, float* tile)
        where TKernel : struct, IMicroKernel
    {
        int mr = TKernel.MR, nr = TKernel.NR;
        // Full tiles with plain C = acc or C += acc go straight to C; the rest through the scratch tile.
        bool plain = writeBack.IsPlain;
        bool accumulate = writeBack.Beta == 1f;
        for (int ir = 0; ir < rows; ir += mr)
        {
            float* aPanel = packedA + (long)ir * kc;
            int tileRows = Math.Min(mr, rows - ir);
            for (int jr = 0; jr < cols; jr += nr)
            {
                float* cTile = c + ir * ldc + jr;
                int tileCols = Math.Min(nr, cols - jr);
                if (plain && tileRows == mr && tileCols == nr)
                {
                    // The tile's C lines arrive while the kernel runs instead of stalling its stores.
                    if (Sse.IsSupported)
                        for (int r = 0; r < mr; r++)
                            for (int j = 0; j < nr; j += 16) Sse.Prefetch0(cTile + r * ldc + j);
                    TKernel.Run(kc, aPanel, packedB + (long)jr * kc, cTile, ldc, accumulate);
                }
                else
                {
                    TKernel.RunEdge(kc, aPanel, packedB + (long)jr * kc, tile, tileRows, tileCols);
                    writeBack.Tile(tile, nr, cTile, ldc, tileRows, tileCols, row0 + ir, col0 + jr);
                }
            }
        }
    }

    private static int RoundUp(int x, int multiple) => (x + multiple - 1) / multiple * multiple;
}

/// <summary>Cache blocking sizes (in floats) for the packed path; see docs/PERFORMANCE.md for how they were chosen.</summary>
internal static class GemmBlocking
{
    /// <summary>Largest k-block: longer blocks spread each C tile's load and store over more FMAs, and kc×ColumnBlock must fit well inside L2.</summary>
    public static int DepthBlock { get; set; } = 384;

    /// <summary>Rows of A packed at once; the packed block lives in L3 and is swept once per column block.</summary>
    public static int RowBlock { get; set; } = 1536;

    /// <summary>Columns of B packed at once: kc×ColumnBlock floats stay in L2 while every A micro-panel passes.</summary>
    public static int ColumnBlock { get; set; } = 320;

    /// <summary>k is cut into equal blocks of at most <see cref="DepthBlock"/>, fixed by k alone.</summary>
    internal static int DepthBlocks(int k) => Math.Max(1, (k + DepthBlock - 1) / DepthBlock);
}
