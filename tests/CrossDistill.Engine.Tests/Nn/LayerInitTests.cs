using System.Text.Json;
using CrossDistill.Engine.Nn;
using CrossDistill.TestSupport;

namespace CrossDistill.Engine.Tests.Nn;

/// <summary>
/// The layers' initial values against PyTorch's reset_parameters: the distributions' ranges and
/// spreads from the formulas, and (live) the same statistics measured on torch.nn modules.
/// </summary>
public class LayerInitTests
{
    private static (double Mean, double Std, double MaxAbs) Stats(Tensor t)
    {
        var v = t.ToArray();
        double mean = v.Average(x => (double)x);
        double std = Math.Sqrt(v.Sum(x => (x - mean) * (x - mean)) / v.Length);
        return (mean, std, v.Max(x => Math.Abs((double)x)));
    }

    /// <summary>U(−bound, bound): inside the bound, reaching close to it, with std bound/√3.</summary>
    private static void AssertUniform(Tensor t, double bound, string what)
    {
        var (mean, std, maxAbs) = Stats(t);
        int n = t.Numel;
        Assert.True(maxAbs <= bound * (1 + 1e-6), $"{what}: max |value| {maxAbs} exceeds the bound {bound}");
        Assert.True(maxAbs >= bound * (1 - 20.0 / n), $"{what}: max |value| {maxAbs} stays well inside the bound {bound}");
        double expectedStd = bound / Math.Sqrt(3);
        // the sample std of n uniform draws has a relative standard error of about 0.45/√n
        Assert.True(Math.Abs(std / expectedStd - 1) < 4 * 0.45 / Math.Sqrt(n), $"{what}: std {std}, expected {expectedStd}");
        Assert.True(Math.Abs(mean) < 4 * expectedStd / Math.Sqrt(n), $"{what}: mean {mean}");
    }

    private static void AssertConstant(Tensor t, float value, string what) => Assert.True(t.ToArray().All(v => v == value), $"{what}: expected all {value}");

    [Fact]
    public void LinearIsKaimingUniformWithASqrt5AndAFanInBias()
    {
        using var scope = DisposeScope.Enter();
        using var linear = new Linear(300, 200);
        AssertUniform(linear.Weight, 1 / Math.Sqrt(300), "Linear.weight");
        AssertUniform(linear.Bias!, 1 / Math.Sqrt(300), "Linear.bias");
    }

    [Theory]
    [InlineData(16, 32, 3, 1)]
    [InlineData(16, 32, 3, 4)]
    [InlineData(64, 64, 3, 64)]
    [InlineData(48, 96, 1, 1)]
    public void Conv2dUsesTheFanInOfOneGroup(int cin, int cout, int k, int groups)
    {
        using var scope = DisposeScope.Enter();
        using var conv = new Conv2d(cin, cout, k, groups: groups);
        double bound = 1 / Math.Sqrt(cin / groups * k * k);
        Assert.Equal(new[] { cout, cin / groups, k, k }, conv.Weight.Shape);
        AssertUniform(conv.Weight, bound, "Conv2d.weight");
        // 32-96 bias values: only the range is checked
        var (_, _, maxAbs) = Stats(conv.Bias!);
        Assert.True(maxAbs <= bound && maxAbs > bound / 2, $"Conv2d.bias: max |value| {maxAbs}, bound {bound}");
    }

    [Fact]
    public void MultiheadAttentionIsXavierWithZeroBiases()
    {
        using var scope = DisposeScope.Enter();
        using var mha = new MultiheadAttention(64, 4);
        // xavier_uniform over the whole [3E, E] matrix: fan_in E, fan_out 3E
        AssertUniform(mha.InProjWeight, Math.Sqrt(6.0 / (64 + 3 * 64)), "in_proj_weight");
        AssertConstant(mha.InProjBias!, 0, "in_proj_bias");
        AssertUniform(mha.OutProj.Weight, 1 / Math.Sqrt(64), "out_proj.weight");
        AssertConstant(mha.OutProj.Bias!, 0, "out_proj.bias");
    }

    [Fact]
    public void EmbeddingIsStandardNormal()
    {
        using var scope = DisposeScope.Enter();
        using var embedding = new Embedding(500, 64);
        var (mean, std, _) = Stats(embedding.Weight);
        Assert.True(Math.Abs(mean) < 0.03 && Math.Abs(std - 1) < 0.02, $"Embedding.weight: mean {mean}, std {std}");
    }

    [Fact]
    public void NormalisationLayersStartAsTheIdentity()
    {
        using var scope = DisposeScope.Enter();
        using var bn = new BatchNorm2d(5);
        AssertConstant(bn.Weight!, 1, "weight");
        AssertConstant(bn.Bias!, 0, "bias");
        AssertConstant(bn.RunningMean!, 0, "running_mean");
        AssertConstant(bn.RunningVar!, 1, "running_var");
        Assert.Equal(DType.Int64, bn.NumBatchesTracked!.DType);
        Assert.Empty(bn.NumBatchesTracked.Shape);
        Assert.Equal(0L, bn.NumBatchesTracked.ToLongArray()[0]);
        using var ln = new LayerNorm(new[] { 3, 4 });
        AssertConstant(ln.Weight!, 1, "LayerNorm.weight");
        AssertConstant(ln.Bias!, 0, "LayerNorm.bias");
        using var gn = new GroupNorm(2, 6);
        AssertConstant(gn.Weight!, 1, "GroupNorm.weight");
        AssertConstant(gn.Bias!, 0, "GroupNorm.bias");
    }

    [Fact]
    public void ParameterlessOptionsRegisterNothing()
    {
        using var bn = new BatchNorm1d(3, affine: false, trackRunningStats: false);
        Assert.Empty(bn.StateDict());
        using var ln = new LayerNorm(4, elementwiseAffine: false);
        Assert.Empty(ln.StateDict());
        using var mha = new MultiheadAttention(8, 2, bias: false);
        Assert.Equal(new[] { "in_proj_weight", "out_proj.weight" }, mha.StateDict().Keys);
        using var conv = new Conv2d(2, 4, 3, bias: false);
        Assert.Equal(new[] { "weight" }, conv.StateDict().Keys);
    }

    private const string PyTorchInitScript = """
import json, torch
from torch import nn
torch.manual_seed(0)
layers = {
    "linear": lambda: nn.Linear(300, 200),
    "conv_groups": lambda: nn.Conv2d(16, 32, 3, groups=4),
    "conv_depthwise": lambda: nn.Conv2d(64, 64, 3, groups=64),
    "mha": lambda: nn.MultiheadAttention(64, 4, batch_first=True),
    "embedding": lambda: nn.Embedding(500, 64),
    "batchnorm": lambda: nn.BatchNorm2d(5),
}
out = {}
for name, make in layers.items():
    state = [make().state_dict() for _ in range(8)]
    stats = {}
    for key in state[0]:
        v = torch.cat([s[key].double().reshape(-1) for s in state])
        stats[key] = [v.mean().item(), v.std(unbiased=False).item(), v.abs().max().item()]
    out[name] = stats
print(json.dumps(out))
""";

    [PyTorchFact]
    public void StatisticsMatchFreshTorchModulesLive()
    {
        var expected = JsonDocument.Parse(Python.Run(PyTorchInitScript)).RootElement;
        var ours = new Dictionary<string, Func<Module>>
        {
            ["linear"] = () => new Linear(300, 200),
            ["conv_groups"] = () => new Conv2d(16, 32, 3, groups: 4),
            ["conv_depthwise"] = () => new Conv2d(64, 64, 3, groups: 64),
            ["mha"] = () => new MultiheadAttention(64, 4),
            ["embedding"] = () => new Embedding(500, 64),
            ["batchnorm"] = () => new BatchNorm2d(5),
        };
        using var scope = DisposeScope.Enter();
        foreach (var (name, make) in ours)
        {
            var modules = Enumerable.Range(0, 8).Select(_ => make()).ToArray();
            var torchStats = expected.GetProperty(name);
            Assert.Equal(torchStats.EnumerateObject().Select(p => p.Name), modules[0].StateDict().Keys);
            foreach (var key in modules[0].StateDict().Keys)
            {
                var values = modules.SelectMany(m => m.StateDict()[key].DType == DType.Int64
                    ? m.StateDict()[key].ToLongArray().Select(v => (double)v)
                    : m.StateDict()[key].ToArray().Select(v => (double)v)).ToArray();
                double mean = values.Average(), std = Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / values.Length), maxAbs = values.Max(Math.Abs);
                var t = torchStats.GetProperty(key).EnumerateArray().Select(e => e.GetDouble()).ToArray();
                string what = $"{name}.{key}: ours mean {mean:G4} std {std:G4} max|v| {maxAbs:G4}, PyTorch {t[0]:G4} {t[1]:G4} {t[2]:G4}";
                // Two independent samples of ≥ 256 values: the relative difference of their standard
                // deviations has a standard error of at most 1/√n (normal draws; less for uniform ones).
                double tolerance = 5 / Math.Sqrt(values.Length);
                Assert.True(Math.Abs(std - t[1]) <= tolerance * Math.Max(t[1], 1e-12) + 1e-12, what);
                // The largest of many uniform draws sits at the bound; a normal's largest draw is too noisy to compare.
                if (name != "embedding") Assert.True(Math.Abs(maxAbs - t[2]) <= 0.05 * Math.Max(t[2], 1e-12) + 1e-12, what);
                Assert.True(Math.Abs(mean - t[0]) <= 4 * Math.Max(t[1], 1e-12) / Math.Sqrt(values.Length) + 1e-12, what);
            }
            foreach (var m in modules) m.Dispose();
        }
    }
}
