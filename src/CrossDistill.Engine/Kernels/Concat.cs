namespace CrossDistill.Engine.Kernels;

/// <summary>
/// Copies parts into consecutive ranges of an output along one dim (cat and stack). Seen in the
/// output's memory order, each part fills one block per index of the dims stored outside the cat
/// dim; a part stored in that same order is moved with block copies, any other layout with a
/// strided copy into its slice of the output.
/// </summary>
internal static unsafe class Concat
{
    private const long ChunkBytes = 1 << 16;

    /// <summary>
    /// <paramref name="parts"/> have the output's rank and dtype and its sizes except along
    /// <paramref name="dim"/>, where their sizes add up to the output's.
    /// </summary>
    public static void Into(Tensor[] parts, Tensor output, int dim)
    {
        if (output.Numel == 0) return;
        var order = Reduction.PhysicalOrder(output);
        int position = Array.IndexOf(order, dim);
        long outer = 1, innerAfter = 1;
        for (int i = 0; i < position; i++) outer *= output.Shape[order[i]];
        for (int i = position + 1; i < order.Length; i++) innerAfter *= output.Shape[order[i]];
        int elementSize = output.DType.ElementSize();
        long outRowBytes = output.Shape[dim] * innerAfter * elementSize;
        byte* outBase = DataLayout.BytePointer(output);

        var sources = new List<nint>();
        var destinations = new List<long>();
        var blockBytes = new List<long>();
        int offset = 0;
        foreach (var part in parts)
        {
            int size = part.Shape[dim];
            if (part.Numel > 0)
            {
                if (StoredInOrder(part, order))
                {
                    sources.Add((nint)DataLayout.BytePointer(part));
                    destinations.Add(offset * innerAfter * elementSize);
                    blockBytes.Add(size * innerAfter * elementSize);
                }
                else
                {
                    using var region = DataLayout.RawView(output, (int[])part.Shape.Clone(), (int[])output.Strides.Clone(), output.Offset + offset * output.Strides[dim]);
                    StridedCopy.Copy(part, region);
                }
            }
            offset += size;
        }
        if (sources.Count > 0) CopyBlocks(sources.ToArray(), destinations.ToArray(), blockBytes.ToArray(), (nint)outBase, outer, outRowBytes);
    }

    /// <summary>True when <paramref name="t"/> is dense with its dims stored in <paramref name="order"/> (size-1 dims aside).</summary>
    private static bool StoredInOrder(Tensor t, int[] order)
    {
        long expected = 1;
        for (int i = order.Length - 1; i >= 0; i--)
        {
            int d = order[i];
            if (t.Shape[d] == 1) continue;
            if (t.Strides[d] != expected) return false;
            expected *= t.Shape[d];
        }
        return true;
    }

    private static void CopyBlocks(nint[] sources, long[] destinations, long[] blockBytes, nint outBase, long outer, long outRowBytes)
    {
        int parts = sources.Length;
        long tasks = outer * parts;
        long totalBytes = 0;
        foreach (long b in blockBytes) totalBytes += b * outer;
        // Many blocks: hand whole blocks to the workers. A few large ones: split each across them.
        if (tasks >= 4L * Workers.Threads || totalBytes < 4 * ChunkBytes)
        {
            int grain = (int)Math.Max(1, ChunkBytes * tasks / Math.Max(totalBytes, 1));
            Workers.For((int)tasks, grain, (start, end) =>
            {
                for (int t = start; t < end; t++)
                {
                    long o = t / parts;
                    int k = t % parts;
                    long bytes = blockBytes[k];
                    byte* src = (byte*)sources[k] + o * bytes;
                    byte* dst = (byte*)outBase + o * outRowBytes + destinations[k];
                    Buffer.MemoryCopy(src, dst, bytes, bytes);
                }
            });
            return;
        }
        for (long o = 0; o < outer; o++)
            for (int k = 0; k < parts; k++)
            {
                long bytes = blockBytes[k];
                CopyLarge((byte*)sources[k] + o * bytes, (byte*)outBase + o * outRowBytes + destinations[k], bytes);
            }
    }

    /// <summary>A block copy split into chunks across the workers.</summary>
    public static void CopyLarge(byte* src, byte* dst, long bytes)
    {
        int chunks = (int)((bytes + ChunkBytes - 1) / ChunkBytes);
        nint s0 = (nint)src, d0 = (nint)dst;
        Workers.For(chunks, 1, (start, end) =>
        {
            long from = start * ChunkBytes, to = Math.Min(bytes, end * ChunkBytes);
            Buffer.MemoryCopy((byte*)s0 + from, (byte*)d0 + from, to - from, to - from);
        });
    }
}
