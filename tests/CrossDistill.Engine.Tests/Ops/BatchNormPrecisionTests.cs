using CrossDistill.TestSupport;

namespace CrossDistill.Engine.Tests.Ops;

/// <summary>
/// Train-mode batch norm is as accurate channels-last as NCHW (and as PyTorch): deep CNNs amplify a
/// per-channel error in the batch statistics, so a few float roundings more per statistic show up
/// as a visibly worse match of a whole network (CNN parity tests of the model zoo).
/// </summary>
public class BatchNormPrecisionTests
{
    [Fact]
    public void ChannelsLastTrainingMatchesADoubleReferenceClosely()
    {
        using var scope = DisposeScope.Enter();
        var g = new Generator(21);
        // Many rows per channel, values away from zero, and the first row (the kernel's shift) at
        // each channel's minimum, so every deviation is positive and long float sums would drift.
        const int n = 2, c = 5, h = 96, w = 96;
        var x = Torch.Uniform(new[] { n, c, h, w }, 3f, 4f, g);
        for (int j = 0; j < c; j++) x.Span[j * h * w] = 3f;
        var up = Torch.Randn(new[] { n, c, h, w }, g);
        var weight = Torch.Uniform(new[] { c }, 0.5f, 1.5f, g).RequiresGrad_();
        var bias = Torch.Randn(new[] { c }, g).RequiresGrad_();
        var (y, dx, dw, db) = Reference(x.ToArray(), up.ToArray(), weight.ToArray(), bias.ToArray(), n, c, h * w, 1e-5);

        var leaf = x.ContiguousChannelsLast().Detach().RequiresGrad_();
        var output = F.BatchNorm(leaf, null, null, weight, bias, training: true);
        (output * up).Sum().Backward();
        Assert.True(output.IsChannelsLast && leaf.Grad!.IsChannelsLast);
        Close(y, output, "output");
        Close(dx, leaf.Grad!, "input gradient");
        Close(dw, weight.Grad!, "weight gradient");
        Close(db, bias.Grad!, "bias gradient");
    }

    /// <summary>Within 6e-7 of the tensor's largest magnitude: a few float32 roundings, not thousands (long float sums were off by 2e-6 here).</summary>
    private static void Close(double[] expected, Tensor actual, string what)
    {
        var a = actual.Contiguous().ToArray();
        double scale = expected.Max(Math.Abs), worst = 0;
        for (int i = 0; i < a.Length; i++) worst = Math.Max(worst, Math.Abs(a[i] - expected[i]));
        Assert.True(worst <= 6e-7 * scale, $"{what}: largest error {worst:E2} is {worst / scale:E2} of the largest magnitude {scale:E2}");
    }

    private static (double[] Y, double[] Dx, double[] Dw, double[] Db) Reference(float[] x, float[] dy, float[] weight, float[] bias, int n, int c, int inner, double eps)
    {
        var y = new double[x.Length];
        var dx = new double[x.Length];
        var dw = new double[c];
        var db = new double[c];
        double count = (double)n * inner;
        for (int j = 0; j < c; j++)
        {
            IEnumerable<int> Indices() => Enumerable.Range(0, n).SelectMany(s => Enumerable.Range((s * c + j) * inner, inner));
            double mean = Indices().Sum(i => (double)x[i]) / count;
            double rstd = 1 / Math.Sqrt(Indices().Sum(i => (x[i] - mean) * (x[i] - mean)) / count + eps);
            double sumDy = 0, sumDyXhat = 0;
            foreach (int i in Indices())
            {
                double xhat = (x[i] - mean) * rstd;
                y[i] = xhat * weight[j] + bias[j];
                sumDy += dy[i];
                sumDyXhat += dy[i] * xhat;
            }
            dw[j] = sumDyXhat;
            db[j] = sumDy;
            foreach (int i in Indices())
            {
                double xhat = (x[i] - mean) * rstd;
                dx[i] = weight[j] * rstd * (dy[i] - sumDy / count - xhat * sumDyXhat / count);
            }
        }
        return (y, dx, dw, db);
    }
}
