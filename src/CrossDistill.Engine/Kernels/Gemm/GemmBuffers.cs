using System.Runtime.InteropServices;

namespace CrossDistill.Engine.Kernels;

/// <summary>
/// Per-thread, 64-byte-aligned packing buffers, grown on demand and kept for the thread's lifetime:
/// kernels run on the caller and on the persistent workers, so each thread allocates once.
/// </summary>
internal static unsafe class GemmBuffers
{
    [ThreadStatic] private static nint _packedA;
    [ThreadStatic] private static long _packedACapacity;
    [ThreadStatic] private static nint _packedB;
    [ThreadStatic] private static long _packedBCapacity;
    [ThreadStatic] private static nint _scratch;
    [ThreadStatic] private static long _scratchCapacity;

    public static float* PackedA(long floats) => Ensure(ref _packedA, ref _packedACapacity, floats);

    public static float* PackedB(long floats) => Ensure(ref _packedB, ref _packedBCapacity, floats);

    /// <summary>Room for tiles and gathered rows on the small-matrix path.</summary>
    public static float* Scratch(long floats) => Ensure(ref _scratch, ref _scratchCapacity, floats);

    private static float* Ensure(ref nint buffer, ref long capacity, long floats)
    {
        if (floats > capacity)
        {
            if (buffer != 0) NativeMemory.AlignedFree((void*)buffer);
            buffer = 0;
            capacity = 0;
            long grown = Math.Max(floats, 4096);
            buffer = (nint)NativeMemory.AlignedAlloc((nuint)(grown * sizeof(float)), 64);
            if (buffer == 0) throw new OutOfMemoryException($"Sgemm: cannot allocate a {grown * sizeof(float)}-byte packing buffer.");
            capacity = grown;
        }
        return (float*)buffer;
    }
}
