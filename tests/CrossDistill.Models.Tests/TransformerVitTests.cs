using CrossDistill.Engine.Nn;
using CrossDistill.Models;
using CrossDistill.Models.Transformers;

namespace CrossDistill.Models.Tests;

public class TransformerVitTests
{
    [Fact]
    public void TimmNamedVitMatchesTheReference()
    {
        using var fixture = TransformerModelFixture.Load("vit_timm");
        using var model = new VisionTransformer("vit_test", new ModelConfig { ImageSize = 20, NumClasses = 7 },
            new VitSettings { PatchSize = 4, EmbedDim = 24, Depth = 6, NumHeads = 3, MlpRatio = 2 });
        fixture.Check(model);
    }

    [Fact]
    public void TorchvisionNamedVitMatchesTorchvision()
    {
        using var fixture = TransformerModelFixture.Load("vit_torchvision");
        using var model = new VisionTransformer("vit_tv_test", new ModelConfig { ImageSize = 16, NumClasses = 5 },
            new VitSettings { PatchSize = 4, EmbedDim = 16, Depth = 4, NumHeads = 2, MlpRatio = 2.5, Naming = WeightNaming.Torchvision });
        fixture.Check(model);
    }
}

public class TransformerClassTokenTests
{
    [Fact]
    public void TheClassTokenLeadsEveryFeatureAndAloneFeedsTheHead()
    {
        using var model = (VisionTransformer)ModelZoo.Create("deit_tiny_p4_32",
            new ModelConfig { ImageSize = 32, NumClasses = 4, Options = new Dictionary<string, double> { ["embed_dim"] = 8, ["num_heads"] = 2, ["depth"] = 4 } });
        model.Eval();
        using var scope = DisposeScope.Enter();
        using var noGrad = GradMode.NoGrad();
        Assert.All(model.StageOutputSpecs, s => Assert.Equal(1, ((TokenSpec)s).PrefixTokens));

        var first = model.Stem(Torch.Randn(new[] { 1, 3, 32, 32 }, new Generator(1)));
        var second = model.Stem(Torch.Randn(new[] { 1, 3, 32, 32 }, new Generator(2)));
        var expected = (model.ClassToken + model.PosEmbed.Narrow(1, 0, 1)).Reshape(8);
        TensorAssert.Close(expected, first.Select(1, 0).Reshape(8), 0, 0, "token 0 of one image");
        TensorAssert.Close(expected, second.Select(1, 0).Reshape(8), 0, 0, "token 0 of another image");

        var feature = model.Stage(3, model.Stage(2, model.Stage(1, model.Stage(0, first))));
        var logits = model.Head(feature).ToArray();
        var patchesChanged = Torch.Cat(new[] { feature.Narrow(1, 0, 1), feature.Narrow(1, 1, 64) * 3f }, 1);
        Assert.Equal(logits, model.Head(patchesChanged).ToArray());
        var classChanged = Torch.Cat(new[] { feature.Narrow(1, 0, 1) * 3f, feature.Narrow(1, 1, 64) }, 1);
        Assert.NotEqual(logits, model.Head(classChanged).ToArray());
    }
}
