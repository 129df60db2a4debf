namespace CrossDistill.Engine.Tests.Ops;

/// <summary>Dropout and drop-path cannot match PyTorch's RNG, so their statistics, scaling, gradients and seeding are checked instead.</summary>
public class DropoutTests
{
    [Fact]
    public void DropoutKeepsAboutOneMinusPAndScalesTheKeptElements()
    {
        using var scope = DisposeScope.Enter();
        const int n = 200_000;
        const float p = 0.3f;
        var x = Torch.Ones(n);
        var y = F.Dropout(x, p, training: true, new Generator(1));
        var v = y.ToArray();
        float scale = 1f / (1f - p);
        int kept = v.Count(e => e != 0f);
        Assert.All(v, e => Assert.True(e == 0f || e == scale, $"value {e} is neither 0 nor 1/(1-p)"));
        // 5 standard deviations of a binomial proportion.
        double sigma = Math.Sqrt(p * (1 - p) / n);
        Assert.InRange((double)kept / n, 1 - p - 5 * sigma, 1 - p + 5 * sigma);
        // Two draws share each 64-bit word: neighbours must still be independent.
        int both = 0;
        for (int i = 0; i + 1 < n; i += 2) if (v[i] != 0f && v[i + 1] != 0f) both++;
        double pairSigma = Math.Sqrt(0.49 * 0.51 / (n / 2));
        Assert.InRange((double)both / (n / 2), 0.49 - 5 * pairSigma, 0.49 + 5 * pairSigma);
    }

    [Fact]
    public void DropoutIsFixedByTheSeedAndUsesTheDefaultGenerator()
    {
        using var scope = DisposeScope.Enter();
        var x = Torch.Randn(new[] { 37, 41 }, new Generator(2));
        var a = F.Dropout(x, 0.5f, true, new Generator(7)).ToArray();
        var b = F.Dropout(x, 0.5f, true, new Generator(7)).ToArray();
        var c = F.Dropout(x, 0.5f, true, new Generator(8)).ToArray();
        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
        Torch.ManualSeed(123);
        var d = F.Dropout(x, 0.5f, true).ToArray();
        var e = F.Dropout(x, 0.5f, true).ToArray();
        Torch.ManualSeed(123);
        Assert.Equal(d, F.Dropout(x, 0.5f, true).ToArray());
        Assert.NotEqual(d, e);
    }

    [Fact]
    public void DropoutPassesThroughInEvalAndAtZeroAndZeroesAtOne()
    {
        using var scope = DisposeScope.Enter();
        var x = Torch.Randn(new[] { 3, 5 }, new Generator(3)).RequiresGrad_();
        Assert.Same(x, F.Dropout(x, 0.5f, training: false));
        Assert.Same(x, F.Dropout(x, 0f, training: true));
        var y = F.Dropout(x, 1f, training: true);
        Assert.All(y.ToArray(), e => Assert.Equal(0f, e));
        y.Sum().Backward();
        Assert.All(x.Grad!.ToArray(), e => Assert.Equal(0f, e));
        Assert.Throws<ArgumentException>(() => F.Dropout(x, 1.5f, true));
        Assert.Throws<ArgumentException>(() => F.Dropout(x, -0.1f, true));
        Assert.Throws<ArgumentException>(() => F.Dropout(x, float.NaN, true));
    }

    [Fact]
    public void DropoutGradientUsesTheSameMaskAndKeepsTheLayout()
    {
        using var scope = DisposeScope.Enter();
        var x = Torch.Ones(2, 3, 4, 5).ContiguousChannelsLast().Detach().RequiresGrad_();
        var y = F.Dropout(x, 0.4f, true, new Generator(4));
        Assert.True(y.IsChannelsLast);
        var upstream = Torch.Randn(y.Shape, new Generator(5));
        (y * upstream).Sum().Backward();
        // With x = 1 the output is the mask itself, so the gradient must be mask·upstream.
        var expected = (y.Detach() * upstream).ToArray();
        Assert.Equal(expected, x.Grad!.ToArray());
    }

    [Fact]
    public void DropPathDropsWholeSamplesAtTheRightRate()
    {
        using var scope = DisposeScope.Enter();
        const int n = 4000;
        const float p = 0.25f;
        var x = Torch.Ones(n, 3, 2);
        var y = F.DropPath(x, p, training: true, generator: new Generator(6)).ToArray();
        float scale = 1f / (1f - p);
        int kept = 0;
        for (int s = 0; s < n; s++)
        {
            var sample = y.AsSpan(s * 6, 6).ToArray();
            Assert.True(sample.All(e => e == 0f) || sample.All(e => e == scale), $"sample {s} is not all dropped or all kept: {string.Join(", ", sample)}");
            if (sample[0] != 0f) kept++;
        }
        double sigma = Math.Sqrt(p * (1 - p) / n);
        Assert.InRange((double)kept / n, 1 - p - 5 * sigma, 1 - p + 5 * sigma);

        var unscaled = F.DropPath(x, p, true, scaleByKeep: false, generator: new Generator(6)).ToArray();
        Assert.Equal(y.Select(e => e == 0f ? 0f : 1f), unscaled);
        Assert.All(F.DropPath(x, 1f, true, generator: new Generator(6)).ToArray(), e => Assert.Equal(0f, e));
    }

    [Fact]
    public void DropPathIsSeededPassesThroughAndRoutesGradientsPerSample()
    {
        using var scope = DisposeScope.Enter();
        var x = Torch.Randn(new[] { 16, 3, 4 }, new Generator(8)).RequiresGrad_();
        Assert.Same(x, F.DropPath(x, 0.5f, training: false));
        Assert.Same(x, F.DropPath(x, 0f, training: true));
        var a = F.DropPath(x, 0.5f, true, generator: new Generator(9));
        Assert.Equal(a.ToArray(), F.DropPath(x, 0.5f, true, generator: new Generator(9)).ToArray());
        a.Sum().Backward();
        var grad = x.Grad!.ToArray();
        var values = a.ToArray();
        for (int s = 0; s < 16; s++)
        {
            float expected = values.Skip(s * 12).Take(12).Any(e => e != 0f) ? 2f : 0f;
            Assert.All(grad.Skip(s * 12).Take(12), e => Assert.Equal(expected, e));
        }
        Assert.Throws<ArgumentException>(() => F.DropPath(Torch.Scalar(1f), 0.5f, true));
        Assert.Throws<ArgumentException>(() => F.DropPath(x, 2f, true));
    }
}
