namespace CrossDistill.Engine.Kernels;

/// <summary>
/// Counts the floating-point operations of matrix products and convolutions (2 per multiply-add)
/// run on this thread while a measurement is open: how `crossdistill models` reports a
/// forward pass's cost. Elementwise ops, norms and softmax are not counted, as in the usual
/// FLOP tables (fvcore, ptflops) they are small next to the products.
/// </summary>
public static class FlopCounter
{
    [ThreadStatic] private static long _count;
    [ThreadStatic] private static int _depth;

    public static bool IsCounting => _depth > 0;

    internal static void AddMultiplyAdds(long multiplyAdds)
    {
        if (_depth > 0) _count += 2 * multiplyAdds;
    }

    /// <summary>Runs <paramref name="action"/> and returns the FLOPs its products performed.</summary>
    public static long Measure(Action action)
    {
        long start = _count;
        _depth++;
        try { action(); }
        finally { _depth--; }
        return _count - start;
    }
}
