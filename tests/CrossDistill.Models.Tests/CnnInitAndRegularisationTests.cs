using CrossDistill.Models.Cnn;

namespace CrossDistill.Models.Tests;

/// <summary>torchvision's initialisation per model, and the dropout and stochastic-depth settings.</summary>
public class CnnInitAndRegularisationTests
{
    private static Dictionary<string, Tensor> State(VisionModel model) => model.StateDict();

    private static (double Mean, double Std, double MaxAbs) Stats(Tensor t)
    {
        var v = t.ToArray();
        double mean = v.Average(x => (double)x);
        double std = Math.Sqrt(v.Sum(x => (x - mean) * (x - mean)) / v.Length);
        return (mean, std, v.Max(x => Math.Abs((double)x)));
    }

    private static void AssertNormal(Tensor t, double std, string what)
    {
        var s = Stats(t);
        Assert.True(Math.Abs(s.Mean) < 0.05 * std, $"{what}: mean {s.Mean} for std {std}");
        Assert.True(Math.Abs(s.Std / std - 1) < 0.05, $"{what}: std {s.Std}, expected {std}");
    }

    private static void AssertConstant(Tensor t, float value, string what) => Assert.True(t.ToArray().All(x => x == value), $"{what} is not all {value}");

    [Fact]
    public void ResNetIsInitialisedAsTorchvision()
    {
        using var model = ModelZoo.Create("resnet18", new ModelConfig { NumClasses = 100 });
        var s = State(model);
        AssertNormal(s["layer4.1.conv2.weight"], Math.Sqrt(2.0 / (512 * 9)), "kaiming_normal fan_out conv"); // fan_out = out·k·k
        AssertNormal(s["conv1.weight"], Math.Sqrt(2.0 / (64 * 49)), "stem conv");
        AssertConstant(s["layer2.0.bn1.weight"], 1f, "BN weight");
        AssertConstant(s["layer2.0.downsample.1.bias"], 0f, "BN bias");
        // fc keeps nn.Linear's default: U(±1/√fan_in) for weight and bias.
        double bound = 1 / Math.Sqrt(512);
        Assert.InRange(Stats(s["fc.weight"]).MaxAbs, 0.95 * bound, bound);
        Assert.InRange(Stats(s["fc.bias"]).MaxAbs, 0.5 * bound, bound);
    }

    [Fact]
    public void MobileNetV2IsInitialisedAsTorchvision()
    {
        using var model = ModelZoo.Create("mobilenet_v2");
        var s = State(model);
        AssertNormal(s["features.18.0.weight"], Math.Sqrt(2.0 / 1280), "1×1 conv, fan_out");
        AssertNormal(s["features.17.conv.1.0.weight"], Math.Sqrt(2.0 / (960 * 9)), "depthwise conv"); // PyTorch's fan_out ignores groups
        AssertNormal(s["classifier.1.weight"], 0.01, "classifier");
        AssertConstant(s["classifier.1.bias"], 0f, "classifier bias");
        AssertConstant(s["features.5.conv.3.weight"], 1f, "BN weight");
    }

    [Fact]
    public void DenseNetIsInitialisedAsTorchvision()
    {
        using var model = ModelZoo.Create("densenet121");
        var s = State(model);
        AssertNormal(s["features.denseblock3.denselayer24.conv1.weight"], Math.Sqrt(2.0 / 992), "kaiming_normal fan_in conv"); // 256 + 23·32 inputs
        AssertNormal(s["features.transition2.conv.weight"], Math.Sqrt(2.0 / 512), "transition conv");
        AssertConstant(s["classifier.bias"], 0f, "classifier bias");
        AssertConstant(s["features.norm5.weight"], 1f, "BN weight");
    }

    [Fact]
    public void ConvNeXtIsInitialisedAsTorchvision()
    {
        using var model = ModelZoo.Create("convnext_tiny");
        var s = State(model);
        AssertNormal(s["features.5.4.block.3.weight"], 0.02, "trunc_normal Linear");
        AssertNormal(s["features.6.1.weight"], 0.02, "downsample conv");
        AssertConstant(s["features.5.4.block.3.bias"], 0f, "Linear bias");
        AssertConstant(s["features.0.0.bias"], 0f, "stem conv bias");
        AssertConstant(s["features.3.1.layer_scale"], 1e-6f, "layer scale");
        AssertConstant(s["classifier.0.weight"], 1f, "LayerNorm2d weight");
        Assert.Equal(new[] { 384, 1, 1 }, s["features.5.0.layer_scale"].Shape);
        Assert.Equal(28_589_128, model.ParameterCount()); // torchvision's convnext_tiny
    }

    [Theory]
    [InlineData("resnet50", 25_557_032)]
    [InlineData("resnet18", 11_689_512)]
    [InlineData("mobilenet_v2", 3_504_872)]
    [InlineData("densenet121", 7_978_856)]
    public void ParameterCountsMatchTorchvision(string preset, long count)
    {
        using var model = ModelZoo.Create(preset);
        Assert.Equal(count, model.ParameterCount());
    }

    [Fact]
    public void ConvNeXtStochasticDepthGrowsLinearlyOverBlocks()
    {
        using var model = ModelZoo.Create("convnext_tiny", new ModelConfig { DropPathRate = 0.3f, Options = new Dictionary<string, double> { ["dim"] = 8, ["depth_multiplier"] = 1.0 / 3 } });
        var rates = model.Modules().OfType<CNBlock>().Select(b => b.StochasticDepthProb).ToArray();
        Assert.Equal(new[] { 1, 1, 3, 1 }, ((ConvNeXt)model).Depths);
        Assert.Equal(6, rates.Length);
        for (int i = 0; i < 6; i++) Assert.Equal(0.3f * i / 5, rates[i], 6);
    }

    [Theory]
    [InlineData("resnet18")]
    [InlineData("mobilenet_v2")]
    [InlineData("densenet121")]
    public void NetworksWithoutStochasticDepthRefuseADropPathRate(string preset)
    {
        var e = Assert.Throws<ArgumentException>(() => ModelZoo.Create(preset, new ModelConfig { DropPathRate = 0.1f }));
        Assert.Contains(preset, e.Message);
        Assert.Contains("DropPathRate", e.Message);
    }

    public static IEnumerable<object[]> DropoutCases() => new[]
    {
        new object[] { "resnet18_cifar", new Dictionary<string, double> { ["width"] = 4 } },
        new object[] { "mobilenet_v2_cifar", new Dictionary<string, double> { ["width_mult"] = 0.25 } },
        new object[] { "densenet121", new Dictionary<string, double> { ["growth_rate"] = 4, ["num_init_features"] = 8 } },
        new object[] { "convnext_tiny", new Dictionary<string, double> { ["dim"] = 8, ["depth_multiplier"] = 1.0 / 3 } },
    };

    [Theory]
    [MemberData(nameof(DropoutCases))]
    public void DropRateIsRandomInTrainingOnlyAndOffByDefault(string preset, Dictionary<string, double> options)
    {
        using var scope = DisposeScope.Enter();
        using var noGrad = GradMode.NoGrad();
        var images = Torch.Randn(new[] { 2, 3, 32, 32 }, new Generator(4));
        using var plain = ModelZoo.Create(preset, new ModelConfig { NumClasses = 10, ImageSize = 32, Options = options });
        Assert.Equal(plain.Forward(images).ToArray(), plain.Forward(images).ToArray());

        using var dropping = ModelZoo.Create(preset, new ModelConfig { NumClasses = 10, ImageSize = 32, DropRate = 0.5f, Options = options });
        Assert.NotEqual(dropping.Forward(images).ToArray(), dropping.Forward(images).ToArray());
        dropping.Eval();
        Assert.Equal(dropping.Forward(images).ToArray(), dropping.Forward(images).ToArray());
    }
}
