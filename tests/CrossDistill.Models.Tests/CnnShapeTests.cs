using CrossDistill.Models.Cnn;

namespace CrossDistill.Models.Tests;

/// <summary>Stage shapes from the architecture arithmetic, for the standard sizes and for awkward ones.</summary>
public class CnnShapeTests
{
    /// <summary>Small widths of every CNN preset, so forward passes are cheap.</summary>
    private static readonly Dictionary<string, Dictionary<string, double>> SmallOptions = new()
    {
        ["resnet18"] = new() { ["width"] = 4 },
        ["resnet34"] = new() { ["width"] = 2 },
        ["resnet50"] = new() { ["width"] = 2 },
        ["mobilenet_v2"] = new() { ["width_mult"] = 0.1, ["round_nearest"] = 4 },
        ["densenet121"] = new() { ["growth_rate"] = 2, ["num_init_features"] = 4, ["bn_size"] = 1 },
        ["convnext_tiny"] = new() { ["dim"] = 4, ["depth_multiplier"] = 0.34 },
    };

    private static Dictionary<string, double> OptionsFor(string preset) => SmallOptions[preset.Replace("_cifar", "", StringComparison.Ordinal)];

    public static IEnumerable<object[]> PresetsAndSizes()
    {
        foreach (var preset in CnnPresets.Presets())
            foreach (int size in preset.Name.EndsWith("_cifar", StringComparison.Ordinal) ? new[] { 9, 32, 37 } : new[] { 33, 64, 97 })
                yield return new object[] { preset.Name, size };
    }

    [Fact]
    public void EveryCnnIsRegisteredWithTorchvisionNames()
    {
        string[] expected = { "resnet18", "resnet34", "resnet50", "resnet18_cifar", "resnet34_cifar", "resnet50_cifar", "mobilenet_v2", "mobilenet_v2_cifar", "densenet121", "convnext_tiny" };
        Assert.Equal(expected.Order(StringComparer.Ordinal), CnnPresets.Presets().Select(p => p.Name).Order(StringComparer.Ordinal));
        foreach (var name in expected)
        {
            var preset = ModelZoo.Get(name);
            Assert.Equal("cnn", preset.Family);
            Assert.Equal("torchvision", preset.Naming);
            Assert.Equal(name.EndsWith("_cifar", StringComparison.Ordinal) ? 32 : 224, preset.DefaultImageSize);
        }
    }

    [Theory]
    [MemberData(nameof(PresetsAndSizes))]
    public void SpecsMatchTheForwardPass(string preset, int size)
    {
        using var scope = DisposeScope.Enter();
        using var model = ModelZoo.Create(preset, new ModelConfig { NumClasses = 3, InChannels = 2, ImageSize = size, Options = OptionsFor(preset) });
        Assert.False(model.IsTokenModel);
        Assert.Equal(preset, model.ArchitectureName);
        model.Eval();
        using var noGrad = GradMode.NoGrad();
        var images = Torch.Randn(new[] { 1, 2, size, size }, new Generator(1));
        var stem = model.Stem(images);
        var inputs = model.StageInputSpecs;
        Assert.Equal(new[] { 1 }.Concat(inputs[0].Shape), stem.Shape);
        var output = model.ForwardFeatures(images);
        CnnReference.CheckFeatures(model, output, 1, $"{preset} at {size}");
        for (int i = 1; i < 4; i++) Assert.Equal(model.StageOutputSpecs[i - 1], inputs[i]);
        Assert.Equal(new[] { 1, 3 }, output.Logits.Shape);
        Assert.Equal(model.FeatureDim, model.StageOutputSpecs[3].ChannelDim);
    }

    [Theory]
    [InlineData("resnet18", 64, 128, 256, 512)]
    [InlineData("resnet34", 64, 128, 256, 512)]
    [InlineData("resnet50", 256, 512, 1024, 2048)]
    [InlineData("mobilenet_v2", 24, 32, 96, 1280)]
    [InlineData("densenet121", 256, 512, 1024, 1024)]
    [InlineData("convnext_tiny", 96, 192, 384, 768)]
    public void FullSizeStagesAreTheResearchNotesShapesAt224(string preset, int c1, int c2, int c3, int c4)
    {
        using var model = ModelZoo.Create(preset);
        var expected = new FeatureSpec[] { new MapSpec(c1, 56, 56), new MapSpec(c2, 28, 28), new MapSpec(c3, 14, 14), new MapSpec(c4, 7, 7) };
        Assert.Equal(expected, model.StageOutputSpecs);
        Assert.Equal(c4, model.FeatureDim);
    }

    [Fact]
    public void CifarVariantsKeepMoreResolution()
    {
        using var resnet = ModelZoo.Create("resnet18_cifar", new ModelConfig { NumClasses = 10, ImageSize = 32, Options = OptionsFor("resnet18") });
        Assert.Equal(new FeatureSpec[] { new MapSpec(4, 32, 32), new MapSpec(8, 16, 16), new MapSpec(16, 8, 8), new MapSpec(32, 4, 4) }, resnet.StageOutputSpecs);
        Assert.Equal(new MapSpec(4, 32, 32), resnet.StageInputSpecs[0]);
        using var mobilenet = ModelZoo.Create("mobilenet_v2_cifar", new ModelConfig { NumClasses = 10, ImageSize = 32 });
        Assert.Equal(new FeatureSpec[] { new MapSpec(24, 16, 16), new MapSpec(32, 16, 16), new MapSpec(96, 8, 8), new MapSpec(1280, 4, 4) }, mobilenet.StageOutputSpecs);
    }

    [Theory]
    [InlineData("resnet18", 0)]
    [InlineData("mobilenet_v2", 0)]
    [InlineData("densenet121", 16)]
    [InlineData("convnext_tiny", 15)]
    public void TooSmallImagesAreRefused(string preset, int size)
    {
        var e = Assert.Throws<ArgumentException>(() => ModelZoo.Create(preset, new ModelConfig { ImageSize = size, Options = OptionsFor(preset) }));
        Assert.Contains(preset, e.Message);
    }

    [Theory]
    [InlineData("resnet50", "widht")]
    [InlineData("mobilenet_v2_cifar", "width")]
    [InlineData("densenet121", "growth")]
    [InlineData("convnext_tiny", "depths")]
    public void UnknownOptionsAreRefused(string preset, string option)
    {
        var e = Assert.Throws<ArgumentException>(() => ModelZoo.Create(preset, new ModelConfig { Options = new Dictionary<string, double> { [option] = 2 } }));
        Assert.Contains(preset, e.Message);
        Assert.Contains("unknown option " + option, e.Message);
    }

    [Fact]
    public void ImagesWithTheWrongChannelCountAreRefused()
    {
        using var scope = DisposeScope.Enter();
        using var model = ModelZoo.Create("resnet18_cifar", new ModelConfig { InChannels = 1, ImageSize = 16, Options = OptionsFor("resnet18") });
        var e = Assert.Throws<ArgumentException>(() => model.Forward(Torch.Zeros(2, 3, 16, 16)));
        Assert.Contains("resnet18_cifar", e.Message);
        Assert.Contains("(N, 1, H, W)", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => model.Stage(4, Torch.Zeros(2, 4, 16, 16)));
    }

    [Theory]
    [InlineData("width_mult", 0.25, 8, 24, 1280)]
    [InlineData("width_mult", 1.4, 48, 136, 1792)]
    [InlineData("width_mult", 0.5, 16, 48, 1280)]
    public void MobileNetWidthsRoundAsTorchvision(string option, double value, int stem, int stage3, int last)
    {
        using var model = ModelZoo.Create("mobilenet_v2", new ModelConfig { Options = new Dictionary<string, double> { [option] = value } });
        var cnn = Assert.IsType<MobileNetV2>(model);
        Assert.Equal(stem, cnn.StemOutputSpec.Channels);
        Assert.Equal(stage3, model.StageOutputSpecs[2].ChannelDim);
        Assert.Equal(last, model.FeatureDim);
    }
}
