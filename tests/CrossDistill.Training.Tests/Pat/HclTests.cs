using CrossDistill.Training.Distillers.PatModules;

namespace CrossDistill.Training.Tests.Pat;

/// <summary>
/// HCL written out element by element with PyTorch's adaptive-pooling bins (start ⌊i·H/l⌋, end
/// ⌈(i+1)·H/l⌉, overlapping for 7→4 and 14→4) and ReviewKD's halving weights, against
/// <see cref="Hcl.Loss(Tensor, Tensor)"/>; and its gradients by finite differences.
/// </summary>
public sealed class HclTests
{
    [Theory]
    [InlineData(2, 3, 7, 7)]
    [InlineData(1, 2, 14, 14)]
    [InlineData(2, 2, 9, 6)]
    [InlineData(1, 3, 4, 4)]
    [InlineData(2, 1, 2, 3)]
    [InlineData(1, 2, 1, 1)]
    public void Matches_a_direct_computation_with_pytorch_bins(int n, int c, int h, int w)
    {
        using var scope = DisposeScope.Enter();
        var g = new Generator(11);
        var s = Torch.Randn(new[] { n, c, h, w }, g);
        var t = Torch.Randn(new[] { n, c, h, w }, g);
        double expected = Reference(s.ToArray(), t.ToArray(), n, c, h, w);
        Assert.Equal(expected, Hcl.Loss(s, t).Item(), 5);
        // Channels-last inputs (what the engine's convolutions return) give the same loss.
        Assert.Equal(expected, Hcl.Loss(s.ContiguousChannelsLast(), t.ContiguousChannelsLast()).Item(), 5);
    }

    [Fact]
    public void Overlapping_bins_for_7_to_4_are_pytorchs()
    {
        // PyTorch's 4 bins over 7 rows: [0,2), [1,4), [3,6), [5,7).
        Assert.Equal(new[] { (0, 2), (1, 4), (3, 6), (5, 7) }, Enumerable.Range(0, 4).Select(i => Bin(i, 7, 4)));
        Assert.Equal(new[] { (0, 4), (3, 7), (7, 11), (10, 14) }, Enumerable.Range(0, 4).Select(i => Bin(i, 14, 4)));
    }

    [Fact]
    public void Sums_the_stages()
    {
        using var scope = DisposeScope.Enter();
        var g = new Generator(3);
        var a = new[] { Torch.Randn(new[] { 2, 2, 7, 7 }, g), Torch.Randn(new[] { 2, 3, 2, 2 }, g) };
        var b = new[] { Torch.Randn(new[] { 2, 2, 7, 7 }, g), Torch.Randn(new[] { 2, 3, 2, 2 }, g) };
        Assert.Equal((Hcl.Loss(a[0], b[0]) + Hcl.Loss(a[1], b[1])).Item(), Hcl.Loss(a, b).Item(), 6);
    }

    [Fact]
    public void Rejects_mismatched_shapes()
    {
        using var scope = DisposeScope.Enter();
        var e = Assert.Throws<ArgumentException>(() => Hcl.Loss(Torch.Zeros(1, 2, 4, 4), Torch.Zeros(1, 2, 5, 5)));
        Assert.Contains("Hcl.Loss", e.Message);
        Assert.Contains("[1, 2, 5, 5]", e.Message);
    }

    [Theory]
    [InlineData(2, 2, 7, 7)]
    [InlineData(1, 2, 14, 14)]
    [InlineData(2, 3, 3, 5)]
    public void Gradients_match_finite_differences(int n, int c, int h, int w)
    {
        var g = new Generator(5);
        GradCheck.Check(x => Hcl.Loss(x[0], x[1]), new[] { Torch.Randn(new[] { n, c, h, w }, g), Torch.Randn(new[] { n, c, h, w }, g) });
    }

    private static (int Start, int End) Bin(int i, int size, int bins) => (i * size / bins, ((i + 1) * size + bins - 1) / bins);

    private static double Reference(float[] s, float[] t, int n, int c, int h, int w)
    {
        double loss = Mse(s, t, n, c, h, w, h, w), weight = 1, total = 1;
        foreach (int level in new[] { 4, 2, 1 })
        {
            if (level >= h) continue;
            weight /= 2;
            loss += weight * Mse(s, t, n, c, h, w, level, level);
            total += weight;
        }
        return loss / total;
    }

    /// <summary>The MSE of both maps adaptively average-pooled to (oh, ow) (the identity when the sizes match).</summary>
    private static double Mse(float[] s, float[] t, int n, int c, int h, int w, int oh, int ow)
    {
        double sum = 0;
        for (int p = 0; p < n * c; p++)
            for (int i = 0; i < oh; i++)
                for (int j = 0; j < ow; j++)
                {
                    var (y0, y1) = Bin(i, h, oh);
                    var (x0, x1) = Bin(j, w, ow);
                    double ds = 0;
                    for (int y = y0; y < y1; y++)
                        for (int x = x0; x < x1; x++)
                            ds += s[(p * h + y) * w + x] - t[(p * h + y) * w + x];
                    double d = ds / ((y1 - y0) * (x1 - x0));
                    sum += d * d;
                }
        return sum / (n * c * oh * ow);
    }
}
