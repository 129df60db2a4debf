using CrossDistill.Models;
using CrossDistill.Models.Transformers;

namespace CrossDistill.Models.Tests;

public class TransformerSwinTests
{
    // 36 px with 2×2 patches and window 4: maps 18, 9, 5, 3, none a window multiple.
    private static readonly SwinSettings Small = new()
    {
        PatchSize = 2, EmbedDim = 8, Depths = new[] { 2, 2, 2, 2 }, NumHeads = new[] { 1, 2, 2, 4 }, WindowSize = 4, MlpRatio = 2,
    };

    [Fact]
    public void TimmNamedSwinWithPaddingAndAClampedWindowMatchesTheReference()
    {
        using var fixture = TransformerModelFixture.Load("swin_timm");
        using var model = new SwinTransformer("swin_test", new ModelConfig { ImageSize = 36, NumClasses = 6 }, Small);
        Assert.Equal(3, model.Stages[3][0].Geometry.Window);
        Assert.True(model.Stages[2][1].Geometry.IsShifted && model.Stages[2][1].Geometry.IsPadded);
        fixture.Check(model);
    }

    [Fact]
    public void TorchvisionNamedSwinWithPaddingMatchesTorchvision()
    {
        using var fixture = TransformerModelFixture.Load("swin_torchvision");
        using var model = new SwinTransformer("swin_tv_test", new ModelConfig { ImageSize = 36, NumClasses = 6 }, Small with { Naming = WeightNaming.Torchvision });
        Assert.Equal(4, model.Stages[3][0].Geometry.Window);
        fixture.Check(model);
    }
}
