using System.Runtime.CompilerServices;

namespace CrossDistill.Engine.Kernels;

/// <summary>
/// Row gathers and scatters along one dim of a row-major tensor seen as [outer, size, inner]: the
/// kernels behind index_select and embedding and their backward.
/// </summary>
internal static unsafe class IndexRows
{
    /// <summary>
    /// A row-major int64 copy of <paramref name="index"/> whose values all lie in [0, size); the
    /// error names the op, the offending value and what it indexes (<paramref name="what"/>, e.g.
    /// "dimension 1 of size 4").
    /// </summary>
    public static Tensor Checked(string op, Tensor index, int size, string what)
    {
        if (index.DType != DType.Int64) throw new ArgumentException($"{op}: indices must be an int64 tensor, got {index.DType}.", nameof(index));
        var c = DataLayout.Contiguous(index);
        long* p = c.LongPtr;
        for (int i = 0; i < c.Numel; i++)
        {
            if ((ulong)p[i] < (ulong)size) continue;
            long bad = p[i];
            c.Dispose();
            throw new ArgumentOutOfRangeException(nameof(index), bad, $"{op}: index {bad} is out of range for {what}.");
        }
        return c;
    }

    /// <summary>out[o, j, :] = x[o, index[j], :] for x [outer, size, inner] and out [outer, n, inner].</summary>
    public static void Select(byte* x, byte* output, int outer, int size, int inner, long* index, int n, int elementSize)
    {
        long rowBytes = (long)inner * elementSize;
        if (rowBytes == 0 || outer == 0 || n == 0) return;
        nint px = (nint)x, po = (nint)output, pi = (nint)index;
        int grain = (int)Math.Max(1, (1 << 16) / rowBytes);
        Workers.For(outer * n, grain, (start, end) =>
        {
            long* idx = (long*)pi;
            for (int t = start; t < end; t++)
            {
                int o = t / n, j = t % n;
                byte* src = (byte*)px + ((long)o * size + idx[j]) * rowBytes;
                CopyBytes(src, (byte*)po + (long)t * rowBytes, rowBytes);
            }
        });
    }

    /// <summary>
    /// gx[o, index[j], :] += g[o, j, :]. Work is split by (outer, column block), never across j, so
    /// every element adds its contributions in the order of j on any number of threads.
    /// </summary>
    public static void AddInto(float* g, float* gx, int outer, int size, int inner, long* index, int n)
    {
        if (inner == 0 || outer == 0 || n == 0) return;
        const int block = 256;
        int blocks = (inner + block - 1) / block;
        int width = Math.Min(inner, block);
        nint pg = (nint)g, pgx = (nint)gx, pi = (nint)index;
        Workers.For(outer * blocks, Math.Max(1, (1 << 15) / Math.Max(1, n * width)), (start, end) =>
        {
            long* idx = (long*)pi;
            for (int t = start; t < end; t++)
            {
                int o = t / blocks, c0 = t % blocks * block;
                int len = Math.Min(block, inner - c0);
                float* dst = (float*)pgx + (long)o * size * inner + c0;
                float* src = (float*)pg + (long)o * n * inner + c0;
                if (len == 1)
                    for (int j = 0; j < n; j++) dst[idx[j] * inner] += src[(long)j * inner];
                else
                    for (int j = 0; j < n; j++) ChannelMath.Add(dst + idx[j] * inner, src + (long)j * inner, len);
            }
        });
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void CopyBytes(byte* src, byte* dst, long bytes)
    {
        if (bytes >= 64) Buffer.MemoryCopy(src, dst, bytes, bytes);
        else for (long i = 0; i < bytes; i += 4) *(int*)(dst + i) = *(int*)(src + i);
    }
}
