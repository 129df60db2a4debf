namespace CrossDistill.Engine.Kernels;

/// <summary>
/// A register-blocked SGEMM tile: acc[r, j] = Σₚ a[p·MR + r] · b[p·NR + j] for p &lt; kc, where a is
/// a packed MR-row micro-panel and b a packed NR-column micro-panel (both zero-padded at edges),
/// stored to c[r·ldc + j] (or added to it when accumulating). The driver points c at C itself for
/// full tiles with alpha = 1 and no epilogue, and at a scratch tile otherwise.
/// Implementations are structs so each generic instantiation of the blocked driver is specialised
/// and MR/NR fold to constants.
/// </summary>
internal unsafe interface IMicroKernel
{
    static abstract int MR { get; }
    static abstract int NR { get; }
    static abstract bool IsSupported { get; }
    static abstract void Run(int kc, float* a, float* b, float* c, long ldc, bool accumulate);

    /// <summary>An edge tile into tile[r·NR + j]: at least its first rows×cols entries, possibly fewer FMAs than <see cref="Run"/>.</summary>
    static abstract void RunEdge(int kc, float* a, float* b, float* tile, int rows, int cols);
}

/// <summary>Which halves of a tile a kernel instantiation computes; constant-folded per struct.</summary>
internal interface ITileShape
{
    static abstract bool LowerRows { get; }
    static abstract bool RightColumns { get; }
}

internal struct FullTile : ITileShape
{
    public static bool LowerRows => true;
    public static bool RightColumns => true;
}

internal struct TopHalf : ITileShape
{
    public static bool LowerRows => false;
    public static bool RightColumns => true;
}

internal struct LeftHalf : ITileShape
{
    public static bool LowerRows => true;
    public static bool RightColumns => false;
}

internal struct TopLeftQuarter : ITileShape
{
    public static bool LowerRows => false;
    public static bool RightColumns => false;
}
