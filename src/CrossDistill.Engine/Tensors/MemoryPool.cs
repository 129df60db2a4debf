using System.Runtime.InteropServices;

namespace CrossDistill.Engine;

/// <summary>
/// A size-bucketed cache of 64-byte-aligned native blocks. A training step frees and re-requests
/// the same sizes every iteration, so caching them keeps memory flat and avoids the cost of
/// zeroing fresh pages. Buckets are powers of two from 64 bytes up, with three intermediate
/// steps per octave to bound the waste at 25%.
/// </summary>
public static unsafe class MemoryPool
{
    private const int Alignment = 64;
    private static readonly object Gate = new();
    private static readonly Dictionary<long, Stack<nint>> Free = new();
    private static long _bytesInUse;
    private static long _bytesCached;
    private static long _peakBytesInUse;

    /// <summary>Bytes held by live tensors.</summary>
    public static long BytesInUse => Interlocked.Read(ref _bytesInUse);

    /// <summary>Bytes held in the cache, ready for reuse.</summary>
    public static long BytesCached => Interlocked.Read(ref _bytesCached);

    /// <summary>The high-water mark of <see cref="BytesInUse"/> since the last <see cref="ResetPeak"/>.</summary>
    public static long PeakBytesInUse => Interlocked.Read(ref _peakBytesInUse);

    public static void ResetPeak() => Interlocked.Exchange(ref _peakBytesInUse, BytesInUse);

    internal static long BucketSize(long bytes)
    {
        if (bytes <= Alignment) return Alignment;
        long pow = 1L << (63 - (int)long.LeadingZeroCount(bytes - 1)); // largest power of two below bytes
        long quarter = pow / 4;
        long size = pow;
        while (size < bytes) size += quarter;
        return (size + Alignment - 1) / Alignment * Alignment;
    }

    internal static nint Rent(long bytes, out long capacity)
    {
        capacity = BucketSize(bytes);
        nint ptr = 0;
        lock (Gate)
        {
            if (Free.TryGetValue(capacity, out var stack) && stack.Count > 0)
            {
                ptr = stack.Pop();
                _bytesCached -= capacity;
            }
        }
        if (ptr == 0)
        {
            ptr = (nint)NativeMemory.AlignedAlloc((nuint)capacity, Alignment);
            if (ptr == 0) throw new OutOfMemoryException($"Cannot allocate {capacity} bytes for a tensor.");
        }
        long inUse = Interlocked.Add(ref _bytesInUse, capacity);
        long peak;
        bool raisedPeak = false;
        while (inUse > (peak = Interlocked.Read(ref _peakBytesInUse)))
            if (Interlocked.CompareExchange(ref _peakBytesInUse, inUse, peak) == peak) { raisedPeak = true; break; }
        if (AllocationSites.Enabled) AllocationSites.OnRent(ptr, capacity, raisedPeak, inUse);
        return ptr;
    }

    internal static void Return(nint ptr, long capacity)
    {
        if (AllocationSites.Enabled) AllocationSites.OnReturn(ptr);
        Interlocked.Add(ref _bytesInUse, -capacity);
        lock (Gate)
        {
            if (!Free.TryGetValue(capacity, out var stack)) Free[capacity] = stack = new Stack<nint>();
            stack.Push(ptr);
            _bytesCached += capacity;
        }
    }

    /// <summary>Releases every cached block to the operating system (as torch.cuda.empty_cache).</summary>
    public static void Trim()
    {
        lock (Gate)
        {
            foreach (var stack in Free.Values)
                while (stack.Count > 0) NativeMemory.AlignedFree((void*)stack.Pop());
            Free.Clear();
            _bytesCached = 0;
        }
    }
}
