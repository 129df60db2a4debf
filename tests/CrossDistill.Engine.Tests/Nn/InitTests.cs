using System.Text.Json;
using CrossDistill.Engine.Nn;
using CrossDistill.TestSupport;

namespace CrossDistill.Engine.Tests.Nn;

public class InitTests
{
    private static (double Mean, double Std, float Min, float Max) Stats(Tensor t)
    {
        var v = t.ToArray();
        double mean = v.Average(x => (double)x);
        double var = v.Sum(x => (x - mean) * (x - mean)) / v.Length;
        return (mean, Math.Sqrt(var), v.Min(), v.Max());
    }

    [Fact]
    public void FansFollowPyTorch()
    {
        using var scope = DisposeScope.Enter();
        Assert.Equal((3, 4), Init.CalculateFanInAndFanOut(Torch.Empty(4, 3)));
        Assert.Equal((75, 200), Init.CalculateFanInAndFanOut(Torch.Empty(8, 3, 5, 5)));
        Assert.Equal((6, 10), Init.CalculateFanInAndFanOut(Torch.Empty(5, 3, 2)));
        var e = Assert.Throws<ArgumentException>(() => Init.CalculateFanInAndFanOut(Torch.Empty(7)));
        Assert.Contains("fewer than 2 dimensions", e.Message);
        Assert.Contains("[7]", e.Message);
    }

    [Fact]
    public void GainsFollowPyTorch()
    {
        Assert.Equal(1.0, Init.CalculateGain(Nonlinearity.Linear));
        Assert.Equal(1.0, Init.CalculateGain(Nonlinearity.Conv2d));
        Assert.Equal(1.0, Init.CalculateGain(Nonlinearity.Sigmoid));
        Assert.Equal(5.0 / 3, Init.CalculateGain(Nonlinearity.Tanh));
        Assert.Equal(Math.Sqrt(2), Init.CalculateGain(Nonlinearity.Relu));
        Assert.Equal(Math.Sqrt(2 / (1 + 0.01 * 0.01)), Init.CalculateGain(Nonlinearity.LeakyRelu));
        Assert.Equal(Math.Sqrt(2 / 1.04), Init.CalculateGain(Nonlinearity.LeakyRelu, 0.2), 15);
        Assert.Equal(0.75, Init.CalculateGain(Nonlinearity.Selu));
    }

    private const string PyTorchFansAndGainsScript = """
import json, math, torch
from torch.nn import init
shapes = [[4, 3], [8, 3, 5, 5], [5, 3, 2], [16, 1, 3, 3], [2, 7, 1, 1, 3]]
fans = [list(init._calculate_fan_in_and_fan_out(torch.empty(s))) for s in shapes]
gains = {n: init.calculate_gain(n) for n in ["linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
                                             "conv_transpose3d", "sigmoid", "tanh", "relu", "leaky_relu", "selu"]}
gains["leaky_relu_sqrt5"] = init.calculate_gain("leaky_relu", math.sqrt(5))
print(json.dumps({"shapes": shapes, "fans": fans, "gains": gains}))
""";

    [PyTorchFact]
    public void FansAndGainsMatchPyTorchLive()
    {
        using var scope = DisposeScope.Enter();
        var r = JsonDocument.Parse(Python.Run(PyTorchFansAndGainsScript)).RootElement;
        var shapes = r.GetProperty("shapes").EnumerateArray().Select(s => s.EnumerateArray().Select(e => e.GetInt32()).ToArray()).ToArray();
        var fans = r.GetProperty("fans").EnumerateArray().Select(f => (f[0].GetInt32(), f[1].GetInt32())).ToArray();
        for (int i = 0; i < shapes.Length; i++)
            Assert.Equal(fans[i], Init.CalculateFanInAndFanOut(Torch.Empty(shapes[i])));
        var gains = r.GetProperty("gains");
        foreach (var (name, nonlinearity) in new[]
        {
            ("linear", Nonlinearity.Linear), ("conv1d", Nonlinearity.Conv1d), ("conv2d", Nonlinearity.Conv2d), ("conv3d", Nonlinearity.Conv3d),
            ("conv_transpose1d", Nonlinearity.ConvTranspose1d), ("conv_transpose2d", Nonlinearity.ConvTranspose2d), ("conv_transpose3d", Nonlinearity.ConvTranspose3d),
            ("sigmoid", Nonlinearity.Sigmoid), ("tanh", Nonlinearity.Tanh), ("relu", Nonlinearity.Relu), ("leaky_relu", Nonlinearity.LeakyRelu), ("selu", Nonlinearity.Selu),
        })
            Assert.Equal(gains.GetProperty(name).GetDouble(), Init.CalculateGain(nonlinearity), 14);
        Assert.Equal(gains.GetProperty("leaky_relu_sqrt5").GetDouble(), Init.CalculateGain(Nonlinearity.LeakyRelu, Math.Sqrt(5)), 14);
    }

    [Fact]
    public void KaimingUniformStaysInItsBoundWithTheRightSpread()
    {
        using var scope = DisposeScope.Enter();
        var w = Init.KaimingUniform_(Torch.Empty(256, 128), a: Math.Sqrt(5), generator: new Generator(3));
        double bound = 1 / Math.Sqrt(128);
        var (mean, std, min, max) = Stats(w);
        Assert.True(min >= -bound && max <= bound);
        Assert.True(Math.Abs(mean) < 0.02 * bound);
        Assert.Equal(bound / Math.Sqrt(3), std, bound * 0.02);
    }

    [Fact]
    public void KaimingNormalAndXavierHaveTheirStandardDeviations()
    {
        using var scope = DisposeScope.Enter();
        var (_, std, _, _) = Stats(Init.KaimingNormal_(Torch.Empty(64, 32, 3, 3), mode: FanMode.FanOut, nonlinearity: Nonlinearity.Relu, generator: new Generator(4)));
        Assert.Equal(Math.Sqrt(2.0 / (64 * 9)), std, 0.03 * std);
        (_, std, _, _) = Stats(Init.XavierNormal_(Torch.Empty(300, 200), gain: 2, generator: new Generator(5)));
        Assert.Equal(2 * Math.Sqrt(2.0 / 500), std, 0.03 * std);
        var (_, ustd, min, max) = Stats(Init.XavierUniform_(Torch.Empty(300, 200), generator: new Generator(6)));
        double bound = Math.Sqrt(6.0 / 500);
        Assert.True(min >= -bound && max <= bound);
        Assert.Equal(bound / Math.Sqrt(3), ustd, 0.03 * ustd);
    }

    [Theory]
    [InlineData(0.0, 1.0, -2.0, 2.0)]
    [InlineData(0.5, 2.0, -1.0, 1.5)]
    [InlineData(0.0, 0.02, -2.0, 2.0)]
    [InlineData(0.0, 1.0, 1.0, 10.0)]
    public void TruncNormalHasTheTruncatedMoments(double mean, double std, double a, double b)
    {
        using var scope = DisposeScope.Enter();
        var t = Init.TruncNormal_(Torch.Empty(200, 250), mean, std, a, b, new Generator(7));
        var (m, s, min, max) = Stats(t);
        Assert.True(min >= a && max <= b, $"values in [{min}, {max}], bounds [{a}, {b}]");
        double alpha = (a - mean) / std, beta = (b - mean) / std;
        double Pdf(double x) => Math.Exp(-x * x / 2) / Math.Sqrt(2 * Math.PI);
        double z = Gaussian.Cdf(beta) - Gaussian.Cdf(alpha);
        double expectedMean = mean + std * (Pdf(alpha) - Pdf(beta)) / z;
        double r = (Pdf(alpha) - Pdf(beta)) / z;
        double expectedStd = std * Math.Sqrt(1 + (alpha * Pdf(alpha) - beta * Pdf(beta)) / z - r * r);
        Assert.Equal(expectedMean, m, 0.01 * expectedStd);
        Assert.Equal(expectedStd, s, 0.01 * expectedStd);
    }

    [Fact]
    public void TheNormalDistributionHelpersAreAccurate()
    {
        // Reference values: Python's 0.5 * math.erfc(-x / sqrt(2)) and statistics.NormalDist().inv_cdf.
        Assert.Equal(0.15865525393145707, Gaussian.Cdf(-1), 1e-15);
        Assert.Equal(0.9772498680518208, Gaussian.Cdf(2), 1e-15);
        Assert.Equal(9.865876450377012e-10, Gaussian.Cdf(-6), 1e-20);
        Assert.Equal(0.5, Gaussian.Cdf(0));
        Assert.Equal(1.959963984540054, Gaussian.InverseCdf(0.975), 1e-8);
        Assert.Equal(-3.090232306167813, Gaussian.InverseCdf(0.001), 1e-8);
        Assert.Equal(double.NegativeInfinity, Gaussian.InverseCdf(0));
        Assert.Equal(double.PositiveInfinity, Gaussian.InverseCdf(1));
        // Acklam's approximation is good to about 1e-9 relative in x, in the tails too.
        foreach (double x in new[] { -6.3, -3, -1, -0.01, 0.2, 1.5, 4, 5.9 })
            Assert.Equal(x, Gaussian.InverseCdf(Gaussian.Cdf(x)), 1.2e-9 * Math.Max(1, Math.Abs(x)));
    }

    [Fact]
    public void DefaultLinearOrConvIsPyTorchsUniformRange()
    {
        using var scope = DisposeScope.Enter();
        var w = Torch.Empty(6, 4, 3, 3);
        var b = Torch.Empty(6);
        Init.DefaultLinearOrConv(w, b, new Generator(8));
        double bound = 1.0 / 6; // fan_in = 4·3·3
        Assert.All(w.ToArray().Concat(b.ToArray()), v => Assert.InRange(v, -bound, bound));
        Assert.True(w.ToArray().Max() > 0.9 * bound && w.ToArray().Min() < -0.9 * bound);
        Init.DefaultLinearOrConv(Torch.Empty(3, 5), null, new Generator(8));
    }

    [Fact]
    public void DrawsAreSeededAndInRowMajorOrderWhateverTheLayout()
    {
        using var scope = DisposeScope.Enter();
        var plain = Init.Normal_(Torch.Empty(2, 3, 4, 5), 1, 2, new Generator(9));
        var channelsLast = Init.Normal_(Torch.Empty(2, 3, 4, 5).ContiguousChannelsLast(), 1, 2, new Generator(9));
        Assert.True(channelsLast.IsChannelsLast && !channelsLast.IsContiguous);
        Assert.Equal(plain.ToArray(), channelsLast.ToArray());
        var transposed = Torch.Zeros(5, 4).T;
        Init.Uniform_(transposed, -1, 1, new Generator(10));
        Assert.Equal(Init.Uniform_(Torch.Empty(4, 5), -1, 1, new Generator(10)).ToArray(), transposed.ToArray());
        Assert.NotEqual(plain.ToArray(), Init.Normal_(Torch.Empty(2, 3, 4, 5), 1, 2, new Generator(11)).ToArray());

        Torch.ManualSeed(12);
        var fromDefault = Init.Uniform_(Torch.Empty(10)).ToArray();
        Torch.ManualSeed(12);
        Assert.Equal(fromDefault, Init.Uniform_(Torch.Empty(10)).ToArray());
    }

    [Fact]
    public void ConstantsFillAnyLayout()
    {
        using var scope = DisposeScope.Enter();
        var t = Torch.Zeros(4, 6);
        Init.Constant_(t.Slice(1, 0, 6, 2), 2.5);
        Assert.Equal(new[] { 2.5f, 0f, 2.5f, 0f, 2.5f, 0f }, t.Select(0, 3).ToArray());
        Assert.All(Init.Ones_(Torch.Empty(3, 2).T).ToArray(), v => Assert.Equal(1f, v));
        Assert.All(Init.Zeros_(Torch.Full(new[] { 5 }, 3f)).ToArray(), v => Assert.Equal(0f, v));
    }

    [Fact]
    public void BadArgumentsAreNamed()
    {
        using var scope = DisposeScope.Enter();
        Assert.Contains("Init.Normal_", Assert.Throws<ArgumentException>(() => Init.Normal_(Torch.Zeros(new[] { 3 }, DType.Int64))).Message);
        Assert.Contains("a = 1 must be below", Assert.Throws<ArgumentException>(() => Init.TruncNormal_(Torch.Empty(3), a: 1, b: 1)).Message);
        Assert.Contains("std -1", Assert.Throws<ArgumentException>(() => Init.Normal_(Torch.Empty(3), std: -1)).Message);
        Init.KaimingUniform_(Torch.Empty(0, 5));
        Init.KaimingNormal_(Torch.Empty(4, 0));
    }
}
