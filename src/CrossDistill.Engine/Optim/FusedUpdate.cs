using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace CrossDistill.Engine.Kernels;

/// <summary>
/// One optimizer update over a parameter, its gradient and its state, element by element: a
/// struct holding the pointers and the step's scalars, with a body per vector width. Every body
/// must round exactly as the scalar one (same operations, FMA where the scalar uses FMA), so an
/// element's result does not depend on which body or thread handled it.
/// </summary>
public interface IFusedUpdate
{
    void Update(int i);
    void Update256(int i);
    void Update512(int i);
}

public static class FusedUpdate
{
    /// <summary>Parameters at least this large are split across the worker threads.</summary>
    public const int ParallelThreshold = 1 << 16;

    private const int Block = 16;

    /// <summary>Applies <paramref name="kernel"/> to elements [0, <paramref name="count"/>) in one pass.</summary>
    public static void Run<TKernel>(TKernel kernel, int count) where TKernel : struct, IFusedUpdate
    {
        if (count < ParallelThreshold)
        {
            RunRange(ref kernel, 0, count);
            return;
        }
        int blocks = (count + Block - 1) / Block;
        Workers.For(blocks, ParallelThreshold / (2 * Block), (start, end) =>
        {
            var k = kernel;
            RunRange(ref k, start * Block, Math.Min(count, end * Block));
        });
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RunRange<TKernel>(ref TKernel kernel, int start, int end) where TKernel : struct, IFusedUpdate
    {
        int i = start;
        if (Vector512.IsHardwareAccelerated)
            for (; i <= end - 16; i += 16) kernel.Update512(i);
        if (Vector256.IsHardwareAccelerated)
            for (; i <= end - 8; i += 8) kernel.Update256(i);
        for (; i < end; i++) kernel.Update(i);
    }
}
