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
