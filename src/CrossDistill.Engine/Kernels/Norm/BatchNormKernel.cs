namespace CrossDistill.Engine.Kernels;

/// <summary>
/// Batch-norm reductions over every dim but the channels: the forward statistics and the two
/// backward sums. NCHW planes are reduced one plane at a time and combined per channel in sample
/// order; channels-last rows are cut into chunks reduced as columns (vectorised over C) and
/// combined in chunk order. The chunking depends only on the shape, so results are reproducible.
/// See <see cref="NormMath"/> for how the statistics stay accurate.
/// </summary>
internal static unsafe class BatchNormKernel
{
    /// <summary>
    /// Channels-last rows per partial sum. Each partial is a float sum over this many rows; the
    /// partials are combined in double, so a column's rounding error grows with the chunk length
    /// only, not with N·H·W. Long float chunks made train-mode statistics several times less
    /// accurate than PyTorch's, and deep networks amplify a per-channel error in the statistics.
    /// </summary>
    private const int ColumnChunkRows = 32;

    private static int ColumnChunks(int rows) => Math.Max(1, (rows + ColumnChunkRows - 1) / ColumnChunkRows);

    /// <summary>Chunks per worker task: about 16K elements of work each.</summary>
    private static int ColumnChunkGrain(int c) => Math.Max(1, (1 << 14) / (ColumnChunkRows * Math.Max(c, 1)));

    /// <summary>Per-channel mean and biased variance.</summary>
    public static void Statistics(float* x, ChannelLayout l, float* mean, float* variance)
    {
        int c = l.C;
        nint px = (nint)x;
        if (l.ChannelsLast)
        {
            // Deviations from the first row: every chunk shares the shift, so chunk sums simply add.
            int rows = l.Rows, chunks = ColumnChunks(rows);
            using var partial = Tensor.Empty(new[] { chunks, 2, c });
            nint pp = (nint)partial.DataPtr;
            Workers.For(chunks, ColumnChunkGrain(c), (start, end) =>
            {
                for (int k = start; k < end; k++)
                {
                    var (r0, r1) = NormMath.ChunkRange(rows, chunks, k);
                    float* dst = (float*)pp + (long)k * 2 * c;
                    NormMath.ColumnShiftedSums((float*)px + (long)r0 * c, r1 - r0, c, (float*)px, dst, dst + c);
                }
            });
            for (int j = 0; j < c; j++)
            {
                double sum = 0, squares = 0;
                for (int k = 0; k < chunks; k++)
                {
                    float* src = (float*)pp + (long)k * 2 * c;
                    sum += src[j];
                    squares += src[c + j];
                }
                var m = Moments.FromShiftedSums(rows, x[j], sum, squares);
                mean[j] = m.MeanF;
                variance[j] = (float)m.BiasedVariance;
            }
        }
        else
        {
            int planes = l.Planes, inner = l.Inner;
            using var partial = Tensor.Empty(new[] { planes, 2 });
            nint pp = (nint)partial.DataPtr;
            Workers.For(planes, Math.Max(1, (1 << 14) / Math.Max(inner, 1)), (start, end) =>
            {
                for (int p = start; p < end; p++)
                {
                    var m = NormMath.RowMoments((float*)px + (long)p * inner, inner);
                    ((float*)pp)[2 * p] = (float)m.Mean;
                    ((float*)pp)[2 * p + 1] = (float)m.M2;
                }
            });
            float* part = (float*)pp;
            for (int j = 0; j < c; j++)
            {
                var acc = default(Moments);
                for (int n = 0; n < l.N; n++)
                {
                    long p = (long)n * c + j;
                    acc = Moments.Merge(acc, new Moments(inner, part[2 * p], part[2 * p + 1]));
                }
                mean[j] = acc.MeanF;
                variance[j] = (float)acc.BiasedVariance;
            }
        }
    }

    /// <summary>Per channel: Σ dy and Σ dy·(x − mean).</summary>
    public static void GradSums(float* x, float* dy, ChannelLayout l, float* mean, float* sumDy, float* sumDyXmu)
    {
        int c = l.C;
        nint px = (nint)x, pg = (nint)dy, pm = (nint)mean;
        if (l.ChannelsLast)
        {
            int rows = l.Rows, chunks = ColumnChunks(rows);
            using var partial = Tensor.Empty(new[] { chunks, 2, c });
            nint pp = (nint)partial.DataPtr;
            Workers.For(chunks, ColumnChunkGrain(c), (start, end) =>
            {
                for (int k = start; k < end; k++)
                {
                    var (r0, r1) = NormMath.ChunkRange(rows, chunks, k);
                    float* dst = (float*)pp + (long)k * 2 * c;
                    long e = (long)r0 * c;
                    NormMath.ColumnGradSums((float*)px + e, (float*)pg + e, r1 - r0, c, (float*)pm, dst, dst + c);
                }
            });
            for (int j = 0; j < c; j++)
            {
                double g = 0, gx = 0;
                for (int k = 0; k < chunks; k++)
                {
                    float* src = (float*)pp + (long)k * 2 * c;
                    g += src[j];
                    gx += src[c + j];
                }
                sumDy[j] = (float)g;
                sumDyXmu[j] = (float)gx;
            }
        }
        else
        {
            int planes = l.Planes, inner = l.Inner;
            using var partial = Tensor.Empty(new[] { planes, 2 });
            nint pp = (nint)partial.DataPtr;
            Workers.For(planes, Math.Max(1, (1 << 14) / Math.Max(inner, 1)), (start, end) =>
            {
                for (int p = start; p < end; p++)
                {
                    long e = (long)p * inner;
                    var (g, gx) = NormMath.RowGradSums((float*)px + e, (float*)pg + e, inner, ((float*)pm)[p % c]);
                    ((float*)pp)[2 * p] = g;
                    ((float*)pp)[2 * p + 1] = gx;
                }
            });
            float* part = (float*)pp;
            for (int j = 0; j < c; j++)
            {
                float g = 0f, gx = 0f;
                for (int n = 0; n < l.N; n++)
                {
                    long p = (long)n * c + j;
                    g += part[2 * p];
                    gx += part[2 * p + 1];
                }
                sumDy[j] = g;
                sumDyXmu[j] = gx;
            }
        }
    }
}
