using CrossDistill.Engine.Nn;
using CrossDistill.Models;
using CrossDistill.Models.Mlp;
using CrossDistill.Models.Transformers;

namespace CrossDistill.Models.Tests;

public class TransformerZooTests
{
    public static IEnumerable<object[]> Registered() => new[]
    {
        new object[] { "deit_tiny_patch16_224", "transformer", "timm", 224 },
        new object[] { "deit_small_patch16_224", "transformer", "timm", 224 },
        new object[] { "deit_base_patch16_224", "transformer", "timm", 224 },
        new object[] { "vit_tiny_patch16_224", "transformer", "timm", 224 },
        new object[] { "vit_small_patch16_224", "transformer", "timm", 224 },
        new object[] { "vit_base_patch16_224", "transformer", "timm", 224 },
        new object[] { "vit_b_16", "transformer", "torchvision", 224 },
        new object[] { "vit_tiny_p4_32", "transformer", "timm", 32 },
        new object[] { "deit_tiny_p4_32", "transformer", "timm", 32 },
        new object[] { "swin_t", "transformer", "torchvision", 224 },
        new object[] { "swin_pico_patch4_window7_224", "transformer", "timm", 224 },
        new object[] { "swin_pico_patch2_window4_32", "transformer", "timm", 32 },
        new object[] { "mixer_b16_224", "mlp", "timm", 224 },
        new object[] { "mixer_s4_32", "mlp", "timm", 32 },
        new object[] { "resmlp_12_224", "mlp", "timm", 224 },
        new object[] { "resmlp_12_p4_32", "mlp", "timm", 32 },
    };

    [Theory]
    [MemberData(nameof(Registered))]
    public void PresetsAreRegisteredWithTheirFamilyNamingAndSize(string name, string family, string naming, int imageSize)
    {
        var preset = ModelZoo.Get(name);
        Assert.Equal((family, naming, imageSize), (preset.Family, preset.Naming, preset.DefaultImageSize));
    }

    /// <summary>The research notes' §1.1 table (OFA/PAT stage shapes at 224 px).</summary>
    public static IEnumerable<object[]> PaperStageShapes() => new[]
    {
        new object[] { "deit_tiny_patch16_224", new[] { 197, 192, 197, 192, 197, 192, 197, 192 }, 1 },
        new object[] { "swin_pico_patch4_window7_224", new[] { 3136, 48, 784, 96, 196, 192, 49, 384 }, 0 },
        new object[] { "resmlp_12_224", new[] { 196, 384, 196, 384, 196, 384, 196, 384 }, 0 },
        new object[] { "swin_pico_patch2_window4_32", new[] { 256, 48, 64, 96, 16, 192, 4, 384 }, 0 },
        new object[] { "vit_tiny_p4_32", new[] { 65, 192, 65, 192, 65, 192, 65, 192 }, 1 },
    };

    [Theory]
    [MemberData(nameof(PaperStageShapes))]
    public void StageSpecsHaveThePublishedShapes(string name, int[] shapes, int prefixTokens)
    {
        using var model = ModelZoo.Create(name);
        Assert.True(model.IsTokenModel);
        for (int i = 0; i < 4; i++)
        {
            var spec = Assert.IsType<TokenSpec>(model.StageOutputSpecs[i]);
            Assert.Equal(new TokenSpec(shapes[2 * i], shapes[2 * i + 1], prefixTokens), spec);
        }
        Assert.Equal(shapes[^1], model.FeatureDim);
    }

    private static ModelConfig Small(int imageSize, params (string Key, double Value)[] options)
        => new() { ImageSize = imageSize, NumClasses = 5, Options = options.ToDictionary(o => o.Key, o => o.Value) };

    public static IEnumerable<object[]> SmallModels() => new[]
    {
        new object[] { "vit_tiny_p4_32", 32, new[] { "embed_dim=24", "num_heads=2" } },
        new object[] { "vit_b_16", 32, new[] { "embed_dim=16", "num_heads=2", "depth=5", "patch_size=8" } },
        new object[] { "swin_pico_patch2_window4_32", 32, new[] { "embed_dim=8" } },
        new object[] { "swin_t", 40, new[] { "embed_dim=12", "window_size=3", "patch_size=2" } },
        new object[] { "mixer_s4_32", 32, new[] { "embed_dim=16" } },
        new object[] { "resmlp_12_p4_32", 28, new[] { "embed_dim=16" } },
    };

    /// <summary>Running stem, stage inputs, stages and head one by one is the forward; every feature has its spec's shape.</summary>
    [Theory]
    [MemberData(nameof(SmallModels))]
    public void PiecewiseRunsMatchTheForwardAndTheSpecs(string name, int imageSize, string[] options)
    {
        var config = Small(imageSize, options.Select(o => (o.Split('=')[0], double.Parse(o.Split('=')[1], System.Globalization.CultureInfo.InvariantCulture))).ToArray());
        using var model = ModelZoo.Create(name, config);
        model.Eval();
        using var scope = DisposeScope.Enter();
        using var noGrad = GradMode.NoGrad();
        var images = Torch.Randn(new[] { 2, 3, imageSize, imageSize }, new Generator(5));
        var output = model.ForwardFeatures(images);
        Assert.Equal(new[] { 2, 5 }, output.Logits.Shape);
        var h = model.Stem(images);
        for (int i = 0; i < 4; i++)
        {
            h = model.StageInput(i, h);
            Assert.Equal(model.StageInputSpecs[i].Shape, h.Shape[1..]);
            h = model.Stage(i, h);
            Assert.Equal(model.StageOutputSpecs[i].Shape, h.Shape[1..]);
            TensorAssert.Close(output.Features[i], h, 0, 0, $"feature {i}");
        }
        TensorAssert.Close(output.Logits, model.Head(h), 0, 0, "logits");
    }

    [Fact]
    public void OptionsResizeTheViT()
    {
        using var model = (VisionTransformer)ModelZoo.Create("vit_tiny_p4_32", Small(32, ("patch_size", 8), ("embed_dim", 48), ("depth", 6), ("num_heads", 4), ("mlp_ratio", 2)));
        Assert.Equal(new TokenSpec(17, 48, 1), model.StageOutputSpecs[0]);
        Assert.Equal(6, model.Blocks.Count);
        Assert.Equal(96, model.Blocks[0].Mlp.Fc1.OutFeatures);
        Assert.Equal(4, model.Blocks[0].Attention.NumHeads);
    }

    [Fact]
    public void InChannelsAndClassesAreConfigurable()
    {
        using var model = ModelZoo.Create("swin_pico_patch2_window4_32", Small(32, ("embed_dim", 8)) with { InChannels = 1, NumClasses = 3 });
        using var scope = DisposeScope.Enter();
        Assert.Equal(new[] { 2, 3 }, model.Forward(Torch.Randn(new[] { 2, 1, 32, 32 })).Shape);
    }

    [Fact]
    public void DropPathGrowsLinearlyInViTAndSwinAndIsUniformInMixers()
    {
        var config = Small(32, ("embed_dim", 8), ("num_heads", 2)) with { DropPathRate = 0.22f };
        using var vit = (VisionTransformer)ModelZoo.Create("vit_tiny_p4_32", config);
        Assert.Equal(0f, vit.Blocks[0].DropPathRate);
        Assert.Equal(0.02f, vit.Blocks[1].DropPathRate, 1e-6f);
        Assert.Equal(0.22f, vit.Blocks[11].DropPathRate, 1e-6f);
        using var swin = (SwinTransformer)ModelZoo.Create("swin_pico_patch2_window4_32", config);
        Assert.Equal(0f, swin.Stages[0][0].DropPathRate);
        Assert.Equal(0.22f / 7 * 2, swin.Stages[1][0].DropPathRate, 1e-6f);
        Assert.Equal(0.22f, swin.Stages[3][1].DropPathRate, 1e-6f);
        using var mixer = (MlpMixer)ModelZoo.Create("mixer_s4_32", config);
        Assert.All(mixer.Blocks, b => Assert.Equal(0.22f, ((MixerBlock)b).DropPathRate));
    }

    [Fact]
    public void TrainingWithDropPathIsStochasticAndEvalIsNot()
    {
        using var model = ModelZoo.Create("deit_tiny_p4_32", Small(32, ("embed_dim", 8), ("num_heads", 2), ("depth", 4)) with { DropPathRate = 0.5f, DropRate = 0.1f });
        using var scope = DisposeScope.Enter();
        var images = Torch.Randn(new[] { 4, 3, 32, 32 });
        model.Train();
        Assert.NotEqual(model.Forward(images).ToArray(), model.Forward(images).ToArray());
        model.Eval();
        Assert.Equal(model.Forward(images).ToArray(), model.Forward(images).ToArray());
    }

    [Fact]
    public void WrongImagesAreRejectedWithTheModelAndShape()
    {
        using var model = ModelZoo.Create("mixer_s4_32", Small(32, ("embed_dim", 8)));
        using var scope = DisposeScope.Enter();
        var e = Assert.Throws<ArgumentException>(() => model.Forward(Torch.Zeros(1, 3, 28, 28)));
        Assert.Contains("mixer_s4_32", e.Message);
        Assert.Contains("[1, 3, 28, 28]", e.Message);
    }

    [Theory]
    [InlineData(12, new[] { 2, 4, 10, 12 })]
    [InlineData(6, new[] { 1, 2, 5, 6 })]
    [InlineData(8, new[] { 1, 3, 7, 8 })]
    [InlineData(4, new[] { 1, 2, 3, 4 })]
    [InlineData(5, new[] { 1, 2, 4, 5 })]
    [InlineData(24, new[] { 4, 8, 20, 24 })]
    public void StageBoundariesScaleTheTwelveBlockSplit(int depth, int[] ends) => Assert.Equal(ends, StageLayout.BlockEnds(depth));

    [Fact]
    public void FewerThanFourBlocksCannotMakeFourStages() => Assert.Throws<ArgumentException>(() => StageLayout.BlockEnds(3));
}
