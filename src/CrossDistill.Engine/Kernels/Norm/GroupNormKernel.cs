namespace CrossDistill.Engine.Kernels;

/// <summary>
/// Group-norm reductions per sample and group. In NCHW a group is one contiguous block, reduced
/// as a row; channels-last samples are reduced as columns (vectorised over C) in row chunks, and
/// the per-channel results are then combined within each group. The chunking depends only on the
/// shape, so results are reproducible. See <see cref="NormMath"/> for how the statistics stay accurate.
/// </summary>
internal static unsafe class GroupNormKernel
{
    private const int MaxChunksPerSample = 32;

    /// <summary>Mean and 1/sqrt(var + eps) per (sample, group), each array of N·G.</summary>
    public static void Statistics(float* x, ChannelLayout l, int groups, float eps, float* mean, float* invStd)
    {
        int n = l.N, c = l.C, cg = c / groups, inner = l.Inner;
        nint px = (nint)x, pm = (nint)mean, pr = (nint)invStd;
        if (!l.ChannelsLast)
        {
            int block = cg * inner;
            Workers.For(n * groups, Math.Max(1, (1 << 14) / Math.Max(block, 1)), (start, end) =>
            {
                for (int k = start; k < end; k++)
                {
                    var m = NormMath.RowMoments((float*)px + (long)k * block, block);
                    ((float*)pm)[k] = m.MeanF;
                    ((float*)pr)[k] = 1f / MathF.Sqrt((float)m.BiasedVariance + eps);
                }
            });
            return;
        }

        // Per sample, deviations from its first row, so the chunk sums of a sample simply add.
        int chunks = NormMath.ChunkCount(inner, c, MaxChunksPerSample);
        using var partial = Tensor.Empty(new[] { n, chunks, 2, c });
        nint pp = (nint)partial.DataPtr;
        Workers.For(n * chunks, 1, (start, end) =>
        {
            for (int u = start; u < end; u++)
            {
                int s = u / chunks, k = u % chunks;
                var (r0, r1) = NormMath.ChunkRange(inner, chunks, k);
                float* dst = (float*)pp + (long)u * 2 * c;
                float* sample = (float*)px + (long)s * inner * c;
                NormMath.ColumnShiftedSums(sample + (long)r0 * c, r1 - r0, c, sample, dst, dst + c);
            }
        });
        for (int s = 0; s < n; s++)
        {
            float* shift = x + (long)s * inner * c;
            for (int g = 0; g < groups; g++)
            {
                var m = default(Moments);
                for (int j = g * cg; j < (g + 1) * cg; j++)
                {
                    double sum = 0, squares = 0;
                    for (int k = 0; k < chunks; k++)
                    {
                        float* src = (float*)pp + ((long)s * chunks + k) * 2 * c;
                        sum += src[j];
                        squares += src[c + j];
                    }
                    m = Moments.Merge(m, Moments.FromShiftedSums(inner, shift[j], sum, squares));
                }
                mean[s * groups + g] = m.MeanF;
                invStd[s * groups + g] = 1f / MathF.Sqrt((float)m.BiasedVariance + eps);
            }
        }
    }

    /// <summary>Per (sample, channel): Σ dy and Σ dy·(x − mean of its group), each array of N·C; <paramref name="meanPerChannel"/> holds the group mean repeated per channel.</summary>
    public static void GradSums(float* x, float* dy, ChannelLayout l, float* meanPerChannel, float* sumDy, float* sumDyXmu)
    {
        int n = l.N, c = l.C, inner = l.Inner;
        nint px = (nint)x, pg = (nint)dy, pm = (nint)meanPerChannel, ps = (nint)sumDy, pq = (nint)sumDyXmu;
        if (!l.ChannelsLast)
        {
            Workers.For(n * c, Math.Max(1, (1 << 14) / Math.Max(inner, 1)), (start, end) =>
            {
                for (int p = start; p < end; p++)
                {
                    long e = (long)p * inner;
                    var (g, gx) = NormMath.RowGradSums((float*)px + e, (float*)pg + e, inner, ((float*)pm)[p]);
                    ((float*)ps)[p] = g;
                    ((float*)pq)[p] = gx;
                }
            });
            return;
        }

        int chunks = NormMath.ChunkCount(inner, c, MaxChunksPerSample);
        using var partial = Tensor.Empty(new[] { n, chunks, 2, c });
        nint pp = (nint)partial.DataPtr;
        Workers.For(n * chunks, 1, (start, end) =>
        {
            for (int u = start; u < end; u++)
            {
                int s = u / chunks, k = u % chunks;
                var (r0, r1) = NormMath.ChunkRange(inner, chunks, k);
                float* dst = (float*)pp + (long)u * 2 * c;
                long e = ((long)s * inner + r0) * c;
                NormMath.ColumnGradSums((float*)px + e, (float*)pg + e, r1 - r0, c, (float*)pm + (long)s * c, dst, dst + c);
            }
        });
        for (int s = 0; s < n; s++)
        {
            float* outG = sumDy + (long)s * c, outGx = sumDyXmu + (long)s * c;
            new Span<float>(outG, c).Clear();
            new Span<float>(outGx, c).Clear();
            for (int k = 0; k < chunks; k++)
            {
                float* src = (float*)pp + ((long)s * chunks + k) * 2 * c;
                for (int j = 0; j < c; j++)
                {
                    outG[j] += src[j];
                    outGx[j] += src[c + j];
                }
            }
        }
    }
}
