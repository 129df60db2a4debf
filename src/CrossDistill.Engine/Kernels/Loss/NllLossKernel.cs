namespace CrossDistill.Engine.Kernels;

/// <summary>
/// Negative log-likelihood of class indices: one gather per position forward, one scatter per
/// position backward. The positions are independent, so any split over threads gives the same result.
/// </summary>
internal static unsafe class NllLossKernel
{
    /// <summary>loss = −w[t]·logProbs[t] and aux = w[t] per position; both 0 where t is the ignore index.</summary>
    public static void Forward(float* logProbs, AxisLayout l, long* target, float* weight, long ignoreIndex, float* loss, float* aux)
    {
        nint px = (nint)logProbs, pt = (nint)target, pw = (nint)weight, pl = (nint)loss, pa = (nint)aux;
        Workers.For(l.Positions, 1 << 14, (start, end) =>
        {
            for (int pos = start; pos < end; pos++)
            {
                long t = ((long*)pt)[pos];
                if (t == ignoreIndex)
                {
                    ((float*)pl)[pos] = 0f;
                    ((float*)pa)[pos] = 0f;
                    continue;
                }
                float w = pw == 0 ? 1f : ((float*)pw)[t];
                ((float*)pl)[pos] = -w * ((float*)px)[l.Offset(pos, (int)t)];
                ((float*)pa)[pos] = w;
            }
        });
    }

    /// <summary>dx[pos, t] = −scale·w[t] into a zeroed <paramref name="dx"/>; scale is read with <paramref name="scaleStride"/>.</summary>
    public static void Backward(AxisLayout l, long* target, float* weight, long ignoreIndex, float* scale, int scaleStride, float* dx)
    {
        nint pt = (nint)target, pw = (nint)weight, ps = (nint)scale, pd = (nint)dx;
        Workers.For(l.Positions, 1 << 14, (start, end) =>
        {
            for (int pos = start; pos < end; pos++)
            {
                long t = ((long*)pt)[pos];
                if (t == ignoreIndex) continue;
                float w = pw == 0 ? 1f : ((float*)pw)[t];
                ((float*)pd)[l.Offset(pos, (int)t)] = -((float*)ps)[(long)pos * scaleStride] * w;
            }
        });
    }
}
