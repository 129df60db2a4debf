namespace CrossDistill.Engine.Kernels;

/// <summary>
/// The elementwise passes shared by batch norm and group norm, over either <see cref="ChannelLayout"/>:
/// the forward affine map and the input gradient. Their coefficients are per channel (batch norm,
/// arrays of C) or per sample and channel (group norm, arrays of N·C).
/// </summary>
internal static unsafe class ChannelNormKernel
{
    private const int Grain = 1 << 14;

    /// <summary>y = (x − mean)·scale + bias with per-channel (or per sample and channel) coefficients.</summary>
    public static void Normalize(float* x, float* y, ChannelLayout l, float* mean, float* scale, float* bias, bool perSample)
    {
        nint px = (nint)x, py = (nint)y, pm = (nint)mean, ps = (nint)scale, pb = (nint)bias;
        int c = l.C, inner = l.Inner;
        if (l.ChannelsLast)
        {
            Workers.For(l.Rows, Math.Max(1, Grain / c), (start, end) =>
            {
                for (int r = start; r < end;)
                {
                    int n = r / inner, stop = Math.Min(end, (n + 1) * inner);
                    long o = perSample ? (long)n * c : 0;
                    NormMath.ColumnNormalize((float*)px + (long)r * c, (float*)py + (long)r * c, stop - r, c, (float*)pm + o, (float*)ps + o, (float*)pb + o);
                    r = stop;
                }
            });
        }
        else
        {
            Workers.For(l.Planes, Math.Max(1, Grain / Math.Max(inner, 1)), (start, end) =>
            {
                for (int p = start; p < end; p++)
                {
                    int k = perSample ? p : p % c;
                    NormMath.RowNormalize((float*)px + (long)p * inner, (float*)py + (long)p * inner, inner, ((float*)pm)[k], ((float*)ps)[k], ((float*)pb)[k]);
                }
            });
        }
    }

    /// <summary>dx = dy·a + (x − mean)·b + c with per-channel (or per sample and channel) coefficients.</summary>
    public static void InputGrad(float* x, float* dy, float* dx, ChannelLayout l, float* mean, float* a, float* b, float* c, bool perSample)
    {
        nint px = (nint)x, pg = (nint)dy, pd = (nint)dx, pm = (nint)mean, pa = (nint)a, pb = (nint)b, pc = (nint)c;
        int channels = l.C, inner = l.Inner;
        if (l.ChannelsLast)
        {
            Workers.For(l.Rows, Math.Max(1, Grain / channels), (start, end) =>
            {
                for (int r = start; r < end;)
                {
                    int n = r / inner, stop = Math.Min(end, (n + 1) * inner);
                    long o = perSample ? (long)n * channels : 0, e = (long)r * channels;
                    NormMath.ColumnInputGrad((float*)px + e, (float*)pg + e, (float*)pd + e, stop - r, channels,
                        (float*)pm + o, (float*)pa + o, (float*)pb + o, (float*)pc + o);
                    r = stop;
                }
            });
        }
        else
        {
            Workers.For(l.Planes, Math.Max(1, Grain / Math.Max(inner, 1)), (start, end) =>
            {
                for (int p = start; p < end; p++)
                {
                    int k = perSample ? p : p % channels;
                    long e = (long)p * inner;
                    NormMath.RowInputGrad((float*)px + e, (float*)pg + e, (float*)pd + e, inner,
                        ((float*)pm)[k], ((float*)pa)[k], ((float*)pb)[k], ((float*)pc)[k]);
                }
            });
        }
    }
}
