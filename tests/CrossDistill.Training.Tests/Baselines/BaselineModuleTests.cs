using System.Text.Json;
using CrossDistill.Engine.Nn;
using CrossDistill.Models;
using CrossDistill.Training.Distillers.Modules;

namespace CrossDistill.Training.Tests.Baselines;

/// <summary>OFA's logit branches and FitNet's hint aligners against the PyTorch references (weights loaded from the fixture).</summary>
public class BaselineModuleTests
{
    public static IEnumerable<object[]> CnnBranchCases => BaselineFixtures.Names("cnn_branch");
    public static IEnumerable<object[]> TokenBranchCases => BaselineFixtures.Names("token_branch");
    public static IEnumerable<object[]> AlignerCases => BaselineFixtures.Names("aligner");

    private const float Rtol = 1e-4f, Atol = 1e-5f;

    /// <summary>The same values in another memory layout: channels-last maps, transposed-storage tokens.</summary>
    private static Tensor Relayout(Tensor x) => x.Rank == 4
        ? x.ContiguousChannelsLast()
        : Torch.Empty(x.Shape[0], x.Shape[2], x.Shape[1]).CopyFrom(x.Transpose(1, 2)).Transpose(1, 2);

    private static Tensor InputLeaf(Tensor x, bool relayout)
    {
        var leaf = (relayout ? Relayout(x) : x.Clone()).Detach();
        leaf.RequiresGrad = true;
        return leaf;
    }

    private static void CheckModule(BaselineCase c, Func<Module<Tensor, Tensor>> build, Action<Module<Tensor, Tensor>>? inspect = null)
    {
        foreach (bool relayout in new[] { false, true })
        {
            using var module = build();
            module.LoadStateDict(c.WithPrefix("w"), strict: true, source: c.Name);
            module.Train();
            inspect?.Invoke(module);
            using var scope = DisposeScope.Enter();
            var x = InputLeaf(c["x"], relayout);
            var y = module.Forward(x);
            string what = $"{c.Name} (relayout: {relayout})";
            TensorAssert.Close(c["y"], y, Rtol, Atol, $"{what} output");
            (y * c["gy"]).Sum().Backward();
            TensorAssert.Close(c["gx"], x.Grad!, Rtol * 10, Atol * 10, $"{what} input gradient");
            var grads = c.WithPrefix("g");
            Assert.Equal(grads.Keys.Order(StringComparer.Ordinal), module.NamedParameters().Select(p => p.Name).Order(StringComparer.Ordinal));
            foreach (var (name, p) in module.NamedParameters())
            {
                Assert.True(p.Grad is not null, $"{what}: {name} got no gradient");
                TensorAssert.Close(grads[name], p.Grad!, Rtol * 10, Atol * 10, $"{what} gradient of {name}");
            }
            foreach (var (name, b) in module.NamedBuffers())
                TensorAssert.Close(c["after." + name], b, Rtol, Atol, $"{what} buffer {name} after the step");
        }
    }

    [Theory]
    [MemberData(nameof(CnnBranchCases))]
    public void CnnBranchMatchesPyTorch(string name)
    {
        var c = BaselineFixtures.Get(name);
        CheckModule(c, () => new CnnLogitBranch(new MapSpec(c.Int("channels"), c.Int("height"), c.Int("width")), c.Int("stage"), c.Int("dim"), c.Int("classes")));
    }

    [Theory]
    [MemberData(nameof(TokenBranchCases))]
    public void TokenBranchMatchesPyTorch(string name)
    {
        var c = BaselineFixtures.Get(name);
        CheckModule(c,
            () => new TokenLogitBranch(new TokenSpec(c.Int("tokens"), c.Int("dim"), c.Int("prefix")), c.Int("stage"), c.Int("feature_dim"), c.Int("classes"), c.Int("final_grid")),
            m => Assert.Equal(c.Int("merges"), ((TokenLogitBranch)m).MergeCount));
    }

    private static FeatureSpec SpecOf(JsonElement e) => e.GetProperty("kind").GetString() == "map"
        ? new MapSpec(e.GetProperty("c").GetInt32(), e.GetProperty("h").GetInt32(), e.GetProperty("w").GetInt32())
        : new TokenSpec(e.GetProperty("tokens").GetInt32(), e.GetProperty("dim").GetInt32(), e.GetProperty("prefix").GetInt32());

    [Theory]
    [MemberData(nameof(AlignerCases))]
    public void HintAlignerMatchesPyTorch(string name)
    {
        var c = BaselineFixtures.Get(name);
        foreach (bool relayout in new[] { false, true })
        {
            using var aligner = new HintAligner(SpecOf(c.Args.GetProperty("student")), SpecOf(c.Args.GetProperty("teacher")), c.Str("resample"));
            aligner.LoadStateDict(c.WithPrefix("w"), strict: true, source: name);
            using var scope = DisposeScope.Enter();
            var x = InputLeaf(c["x"], relayout);
            var y = aligner.Forward(x);
            string what = $"{name} (relayout: {relayout})";
            TensorAssert.Close(c["y"], y, Rtol, Atol, $"{what} aligned");
            var loss = F.MseLoss(y, aligner.Target(c["teacher"]));
            TensorAssert.Close(c["loss"], loss, Rtol, Atol, $"{what} loss");
            loss.Backward();
            TensorAssert.Close(c["gx"], x.Grad!, Rtol * 10, Atol * 10, $"{what} input gradient");
            TensorAssert.Close(c["g.proj.weight"], aligner.NamedParameters().Single().Parameter.Grad!, Rtol * 10, Atol * 10, $"{what} weight gradient");
        }
    }

    [Fact]
    public void PatchMergingOfAnOddGridHasTheRightGradients()
    {
        using var merging = new PatchMerging(3, 2, 3, gelu: true);
        var x = Torch.Randn(new[] { 2, 9, 2 }, new Generator(21)).DetachFromScopes();
        GradCheck.Check(t => merging.Forward(t[0]), new[] { x });
    }

    [Theory]
    [InlineData("map->tokens")]
    [InlineData("tokens->map")]
    public void HintAlignerHasTheRightGradients(string pair)
    {
        FeatureSpec student = pair == "map->tokens" ? new MapSpec(3, 4, 4) : new TokenSpec(1 + 9, 3, 1);
        FeatureSpec teacher = pair == "map->tokens" ? new TokenSpec(1 + 4, 2, 1) : new MapSpec(2, 5, 5);
        using var aligner = new HintAligner(student, teacher);
        var x = Torch.Randn(new[] { 2 }.Concat(student.Shape).ToArray(), new Generator(22)).DetachFromScopes();
        GradCheck.Check(t => aligner.Forward(t[0]), new[] { x });
    }

    [Fact]
    public void MergeCountsFollowTheOfficialRule()
    {
        // max(⌊log2(grid / 7)⌋, 0): ViT-S/DeiT 14 → 1, Swin stage 1 56 → 3, stage 4 7 → 0, 13 → 0.
        Assert.Equal(1, TokenLogitBranch.MergesFor(14, 7));
        Assert.Equal(3, TokenLogitBranch.MergesFor(56, 7));
        Assert.Equal(2, TokenLogitBranch.MergesFor(28, 7));
        Assert.Equal(0, TokenLogitBranch.MergesFor(7, 7));
        Assert.Equal(0, TokenLogitBranch.MergesFor(13, 7));
        Assert.Equal(1, TokenLogitBranch.MergesFor(8, 4));
    }

    [Fact]
    public void BranchesAndAlignersRejectFeaturesTheyCannotLayOut()
    {
        var e = Assert.Throws<ArgumentException>(() => new TokenLogitBranch(new TokenSpec(1 + 10, 8, 1), 2, 8, 5));
        Assert.Contains("square grid", e.Message);
        Assert.Throws<ArgumentException>(() => new TokenLogitBranch(new TokenSpec(16, 8), 2, 10, 5)); // 10 not divisible by 4 heads
        Assert.Throws<ArgumentException>(() => new CnnLogitBranch(new MapSpec(4, 8, 8), 5, 8, 5));
        Assert.Contains("square grid", Assert.Throws<ArgumentException>(() => new HintAligner(new TokenSpec(12, 8), new MapSpec(4, 3, 3))).Message);
        Assert.Throws<ArgumentException>(() => new HintAligner(new MapSpec(4, 3, 3), new MapSpec(4, 3, 3), "bicubic"));
        using var scope = DisposeScope.Enter();
        using var branch = new CnnLogitBranch(new MapSpec(4, 8, 8), 2, 8, 5);
        Assert.Contains("CnnLogitBranch", Assert.Throws<ArgumentException>(() => branch.Forward(Torch.Zeros(2, 5, 8, 8))).Message);
        using var aligner = new HintAligner(new MapSpec(4, 3, 3), new TokenSpec(10, 6, 1));
        Assert.Contains("HintAligner", Assert.Throws<ArgumentException>(() => aligner.Forward(Torch.Zeros(2, 4, 4, 4))).Message);
        Assert.Contains("HintAligner", Assert.Throws<ArgumentException>(() => aligner.Target(Torch.Zeros(2, 9, 6))).Message);
    }

    [Fact]
    public void OfficialInitGivesTheOfficialDistributions()
    {
        using var branch = new CnnLogitBranch(new MapSpec(32, 8, 8), 3, 64, 100);
        var conv = branch.Modules().OfType<Conv2d>().First(m => m.Groups == 1);
        var linear = branch.Modules().OfType<Linear>().Single();
        OfficialInit.Apply(branch, new Generator(3));
        // kaiming_normal(fan_out, relu): std = √2 / √(out·kH·kW); the pointwise conv here is 32 → 32, 1×1.
        double convStd = Std(conv.Weight.ToArray());
        Assert.InRange(convStd, 0.85 * Math.Sqrt(2.0 / conv.OutChannels), 1.15 * Math.Sqrt(2.0 / conv.OutChannels));
        Assert.InRange(Std(linear.Weight.ToArray()), 0.018, 0.022);
        Assert.All(linear.Bias!.ToArray(), b => Assert.Equal(0f, b));
        Assert.All(branch.Modules().OfType<BatchNorm>().SelectMany(bn => bn.Weight!.ToArray()), w => Assert.Equal(1f, w));
    }

    private static double Std(float[] values)
    {
        double mean = values.Average(v => (double)v);
        return Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / values.Length);
    }
}
