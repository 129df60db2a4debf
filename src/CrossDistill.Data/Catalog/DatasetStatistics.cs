namespace CrossDistill.Data.Catalog;

/// <summary>Per-channel mean and standard deviation of a dataset's pixel values.</summary>
public sealed record ChannelStatistics(double[] Mean, double[] Std)
{
    public float[] MeanF => Mean.Select(v => (float)v).ToArray();
    public float[] StdF => Std.Select(v => (float)v).ToArray();

    /// <summary>Mean and (population) standard deviation over every pixel of every image, per channel.</summary>
    public static ChannelStatistics Compute(Dataset dataset)
    {
        int c = dataset.Channels, plane = dataset.Height * dataset.Width;
        var sum = new double[c];
        var sumSq = new double[c];
        var buffer = new float[dataset.ImageLength];
        for (int i = 0; i < dataset.Count; i++)
        {
            dataset.ReadImage(i, buffer);
            for (int ch = 0; ch < c; ch++)
            {
                double s = 0, s2 = 0;
                foreach (float v in buffer.AsSpan(ch * plane, plane))
                {
                    s += v;
                    s2 += (double)v * v;
                }
                sum[ch] += s;
                sumSq[ch] += s2;
            }
        }
        double n = (double)dataset.Count * plane;
        var mean = new double[c];
        var std = new double[c];
        for (int ch = 0; ch < c; ch++)
        {
            mean[ch] = n > 0 ? sum[ch] / n : 0;
            std[ch] = n > 0 ? Math.Sqrt(Math.Max(0, sumSq[ch] / n - mean[ch] * mean[ch])) : 0;
        }
        return new ChannelStatistics(mean, std);
    }
}
