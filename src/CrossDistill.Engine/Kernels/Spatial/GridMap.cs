namespace CrossDistill.Engine.Kernels;

/// <summary>
/// Copies through per-axis source tables: out[p, oh, ow, :] = x[p, rows[oh], cols[ow], :] on
/// row-major [planes, H, W, channels] data. Reflect and replicate padding and nearest-neighbour
/// resizing are all such maps; their backward is the matching scatter-add.
/// </summary>
internal static unsafe class GridMap
{
    public static void Gather(float* x, float* output, int planes, int height, int width, int channels, int[] rows, int[] cols)
    {
        int outH = rows.Length, outW = cols.Length;
        if (planes == 0 || outH == 0 || outW == 0 || channels == 0) return;
        var runs = Runs(cols);
        long inPlane = (long)height * width * channels, rowLength = (long)outW * channels;
        nint px = (nint)x, po = (nint)output;
        Workers.For(planes * outH, Math.Max(1, (int)((1 << 15) / rowLength)), (start, end) =>
        {
            for (int t = start; t < end; t++)
            {
                int p = t / outH, r = t % outH;
                float* src = (float*)px + p * inPlane + (long)rows[r] * width * channels;
                float* dst = (float*)po + t * rowLength;
                // Single floats in runs shorter than three (an upsampling's repeats) cost less one by one.
                if (channels == 1 && runs.Length > outW)
                    for (int q = 0; q < outW; q++) dst[q] = src[cols[q]];
                else
                    for (int k = 0; k < runs.Length; k += 3)
                        ChannelMath.Copy(dst + (long)runs[k] * channels, src + (long)runs[k + 1] * channels, runs[k + 2] * channels);
            }
        });
    }

    /// <summary>
    /// gx[p, rows[oh], cols[ow], :] += g[p, oh, ow, :]. Work splits by plane and channel block, so
    /// each element of gx takes its contributions in (oh, ow) order on any number of threads.
    /// </summary>
    public static void ScatterAdd(float* g, float* gx, int planes, int height, int width, int channels, int[] rows, int[] cols)
    {
        int outH = rows.Length, outW = cols.Length;
        if (planes == 0 || outH == 0 || outW == 0 || channels == 0) return;
        const int block = 64;
        int blocks = (channels + block - 1) / block;
        long inPlane = (long)height * width * channels, outPlane = (long)outH * outW * channels;
        nint pg = (nint)g, pgx = (nint)gx;
        Workers.For(planes * blocks, Math.Max(1, (int)((1 << 15) / Math.Max(1, outPlane / blocks))), (start, end) =>
        {
            for (int t = start; t < end; t++)
            {
                int p = t / blocks, c0 = t % blocks * block, len = Math.Min(block, channels - c0);
                for (int r = 0; r < outH; r++)
                {
                    float* dst = (float*)pgx + p * inPlane + (long)rows[r] * width * channels + c0;
                    float* src = (float*)pg + p * outPlane + (long)r * outW * channels + c0;
                    if (channels == 1)
                        for (int q = 0; q < outW; q++) dst[cols[q]] += src[q];
                    else
                        for (int q = 0; q < outW; q++) ChannelMath.Add(dst + (long)cols[q] * channels, src + (long)q * channels, len);
                }
            }
        });
    }

    /// <summary>Maximal stretches where consecutive outputs read consecutive inputs, as (out start, source start, length) triples.</summary>
    private static int[] Runs(int[] cols)
    {
        var runs = new List<int>();
        for (int q = 0; q < cols.Length;)
        {
            int len = 1;
            while (q + len < cols.Length && cols[q + len] == cols[q] + len) len++;
            runs.Add(q);
            runs.Add(cols[q]);
            runs.Add(len);
            q += len;
        }
        return runs.ToArray();
    }
}
