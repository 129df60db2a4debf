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
}
