using CrossDistill.Training.Distillers;
using CrossDistill.Training.Distillers.Losses;

namespace CrossDistill.Training.Tests.Baselines;

/// <summary>DKD, DIST and OFA losses against the PyTorch references, finite differences and edge cases.</summary>
public class BaselineLossTests
{
    public static IEnumerable<object[]> DkdCases => BaselineFixtures.Names("dkd");
    public static IEnumerable<object[]> DistCases => BaselineFixtures.Names("dist");
    public static IEnumerable<object[]> OfaCases => BaselineFixtures.Names("ofa_loss");

    private static Tensor LabelsOf(BaselineCase c)
    {
        if (!c.Bool("soft")) return c["labels"];
        // Soft targets go through the same rule the distillers use.
        var batch = new DistillBatch(Torch.Zeros(1), Torch.Zeros(new[] { 0 }, DType.Int64), c["soft_targets"], Array.Empty<int>());
        return BatchTargets.HardLabels(batch);
    }

    [Theory]
    [MemberData(nameof(DkdCases))]
    public void DkdMatchesPyTorch(string name)
    {
        var c = BaselineFixtures.Get(name);
        foreach (bool transposed in new[] { false, true })
        {
            using var scope = DisposeScope.Enter();
            var s = BaselineFixtures.Leaf(c["student"], transposed);
            var labels = LabelsOf(c);
            var (tckd, nckd) = DkdLoss.Terms(s, c["teacher"], labels, c.Float("temperature"));
            var loss = DkdLoss.Compute(s, c["teacher"], labels, c.Float("alpha"), c.Float("beta"), c.Float("temperature"));
            TensorAssert.Close(c["tckd"], tckd, 1e-5f, 1e-6f, $"{name} tckd");
            TensorAssert.Close(c["nckd"], nckd, 1e-5f, 1e-6f, $"{name} nckd");
            TensorAssert.Close(c["loss"], loss, 1e-5f, 1e-6f, $"{name} loss");
            loss.Backward();
            TensorAssert.Close(c["grad_student"], s.Grad!, 1e-4f, 1e-6f, $"{name} gradient (transposed: {transposed})");
        }
    }

    [Theory]
    [MemberData(nameof(DistCases))]
    public void DistMatchesPyTorch(string name)
    {
        var c = BaselineFixtures.Get(name);
        foreach (bool transposed in new[] { false, true })
        {
            using var scope = DisposeScope.Enter();
            var s = BaselineFixtures.Leaf(c["student"], transposed);
            var (inter, intra) = DistLoss.Terms(s, c["teacher"], c.Float("tau"));
            var loss = DistLoss.Compute(s, c["teacher"], c.Float("beta"), c.Float("gamma"), c.Float("tau"));
            TensorAssert.Close(c["inter"], inter, 1e-5f, 1e-6f, $"{name} inter");
            TensorAssert.Close(c["intra"], intra, 1e-5f, 1e-6f, $"{name} intra");
            TensorAssert.Close(c["loss"], loss, 1e-5f, 1e-6f, $"{name} loss");
            loss.Backward();
            TensorAssert.Close(c["grad_student"], s.Grad!, 1e-4f, 1e-6f, $"{name} gradient (transposed: {transposed})");
        }
    }

    [Theory]
    [MemberData(nameof(OfaCases))]
    public void OfaLossMatchesPyTorch(string name)
    {
        var c = BaselineFixtures.Get(name);
        foreach (bool transposed in new[] { false, true })
        {
            using var scope = DisposeScope.Enter();
            var s = BaselineFixtures.Leaf(c["student"], transposed);
            var mask = OfaLoss.TargetMask(LabelsOf(c), s.Shape[1]);
            var loss = OfaLoss.Compute(s, c["teacher"], mask, c.Float("eps"), c.Float("temperature"));
            TensorAssert.Close(c["loss"], loss, 1e-5f, 1e-6f, $"{name} loss");
            loss.Backward();
            TensorAssert.Close(c["grad_student"], s.Grad!, 1e-4f, 1e-6f, $"{name} gradient (transposed: {transposed})");
        }
    }

    private static (Tensor Student, Tensor Teacher, Tensor Labels) SmallLogits(ulong seed)
    {
        var g = new Generator(seed);
        var s = (Torch.Randn(new[] { 3, 4 }, g) * 1.5f).DetachFromScopes();
        var t = (Torch.Randn(new[] { 3, 4 }, g) * 1.5f).DetachFromScopes();
        var labels = Torch.FromArray(new long[] { 2, 0, 3 }, 3).DetachFromScopes();
        return (s, t, labels);
    }

    [Theory]
    [InlineData(1f, 8f, 4f)]
    [InlineData(0.5f, 2f, 1f)]
    public void DkdFiniteDifferences(float alpha, float beta, float temperature)
    {
        var (s, t, y) = SmallLogits(11);
        GradCheck.Check(x => DkdLoss.Compute(x[0], t, y, alpha, beta, temperature), new[] { s });
    }

    [Theory]
    [InlineData(1f, 1f, 1f)]
    [InlineData(2f, 0.5f, 4f)]
    public void DistFiniteDifferences(float beta, float gamma, float tau)
    {
        var (s, t, _) = SmallLogits(12);
        GradCheck.Check(x => DistLoss.Compute(x[0], t, beta, gamma, tau), new[] { s });
    }

    [Theory]
    [InlineData(1f, 1f)]
    [InlineData(1.5f, 1f)]
    [InlineData(0.7f, 3f)]
    public void OfaFiniteDifferences(float eps, float temperature)
    {
        var (s, t, y) = SmallLogits(13);
        var mask = OfaLoss.TargetMask(y, 4).DetachFromScopes();
        GradCheck.Check(x => OfaLoss.Compute(x[0], t, mask, eps, temperature), new[] { s });
    }

    [Fact]
    public void OfaWithEpsOneIsSoftLabelCrossEntropy()
    {
        using var scope = DisposeScope.Enter();
        var (s, t, y) = SmallLogits(14);
        var mask = OfaLoss.TargetMask(y, 4);
        // (p_t + m)^1 − m = p_t: the cross-entropy against the teacher's soft labels.
        var expected = F.CrossEntropy(s, F.Softmax(t, 1));
        TensorAssert.Close(expected, OfaLoss.Compute(s, t, mask, 1f, 1f), 1e-6f, 1e-6f, "ε = 1");
    }

    [Fact]
    public void OfaEnhancesOnlyTheTargetClassWeight()
    {
        using var scope = DisposeScope.Enter();
        // A uniform student makes the loss Σ_c w_c·log C, so the weights can be read off.
        var s = Torch.Zeros(1, 3);
        var t = Torch.FromArray(new[] { MathF.Log(0.5f), MathF.Log(0.3f), MathF.Log(0.2f) }, 1, 3);
        var mask = OfaLoss.TargetMask(Torch.FromArray(new long[] { 1 }, 1), 3);
        float eps = 2f;
        double weights = Math.Pow(0.5, eps) + (Math.Pow(1.3, eps) - 1) + Math.Pow(0.2, eps);
        Assert.Equal(weights * Math.Log(3), OfaLoss.Compute(s, t, mask, eps, 1f).Item(), 5);
    }

    [Fact]
    public void DkdNonTargetTermIgnoresTheTargetLogit()
    {
        using var scope = DisposeScope.Enter();
        var (s, t, y) = SmallLogits(15);
        var (_, nckd) = DkdLoss.Terms(s, t, y, 2f);
        // Moving the target logits changes TCKD but not NCKD (the target class is masked out).
        var shifted = s + F.OneHot(y, 4) * 3f;
        var (_, nckdShifted) = DkdLoss.Terms(shifted, t, y, 2f);
        Assert.Equal(nckd.Item(), nckdShifted.Item(), 5);
    }

    [Fact]
    public void IdenticalLogitsGiveZeroDkdAndDist()
    {
        using var scope = DisposeScope.Enter();
        var (s, _, y) = SmallLogits(16);
        var (tckd, nckd) = DkdLoss.Terms(s, s, y, 4f);
        Assert.Equal(0f, tckd.Item(), 5);
        Assert.Equal(0f, nckd.Item(), 5);
        var (inter, intra) = DistLoss.Terms(s, s, 1f);
        Assert.Equal(0f, inter.Item(), 5);
        Assert.Equal(0f, intra.Item(), 5);
    }

    [Fact]
    public void BadArgumentsNameTheLossAndTheShapes()
    {
        using var scope = DisposeScope.Enter();
        var (s, t, y) = SmallLogits(17);
        var e = Assert.Throws<ArgumentException>(() => DkdLoss.Terms(s, Torch.Zeros(3, 5), y, 1f));
        Assert.Contains("DkdLoss", e.Message);
        Assert.Contains("[3, 5]", e.Message.Replace("(", "[").Replace(")", "]"));
        Assert.Contains("DkdLoss", Assert.Throws<ArgumentException>(() => DkdLoss.Terms(s, t, Torch.FromArray(new long[] { 0, 1 }, 2), 1f)).Message);
        Assert.Contains("DistLoss", Assert.Throws<ArgumentException>(() => DistLoss.Terms(s, t, 0f)).Message);
        Assert.Contains("OfaLoss", Assert.Throws<ArgumentException>(() => OfaLoss.Compute(s, t, Torch.Zeros(3, 5), 1f, 1f)).Message);
        Assert.Contains("eps", Assert.Throws<ArgumentException>(() => OfaLoss.Compute(s, t, OfaLoss.TargetMask(y, 4), 0f, 1f)).Message);
    }
}
