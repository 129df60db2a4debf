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

public class TransformerWindowGeometryTests
{
    /// <summary>Finite differences through padding, the shifted-window gathers, the mask and the merging of an odd map.</summary>
    [Fact]
    public void GradientsFlowThroughShiftedPaddedWindowsAndMerging()
    {
        var geometry = WindowGeometry.Create(5, 5, 2, 1, clampToMap: false);
        Assert.True(geometry.IsShifted && geometry.IsPadded);
        using var block = new SwinBlock(4, 2, geometry, 2, 0, 0, WeightNaming.Timm);
        using var merging = new PatchMerging(4, 5, 5);
        using var scope = DisposeScope.Enter();
        var x = Torch.Randn(new[] { 2, 25, 4 }, new Generator(11));
        GradCheck.Check(inputs => merging.Forward(block.Forward(inputs[0])), new[] { x });
    }

    [Theory]
    [InlineData(8, 4, 0, false)]
    [InlineData(8, 4, 2, false)]
    [InlineData(9, 4, 2, false)]
    [InlineData(5, 4, 2, false)]
    [InlineData(3, 4, 2, false)]
    [InlineData(3, 4, 2, true)]
    [InlineData(7, 7, 3, true)]
    [InlineData(14, 7, 3, false)]
    public void ReverseUndoesThePartition(int side, int window, int shift, bool clamp)
    {
        var g = WindowGeometry.Create(side, side, window, shift, clamp);
        long[] partition = g.Partition() ?? Enumerable.Range(0, g.PaddedHeight * g.PaddedWidth).Select(i => (long)i).ToArray();
        long[] reverse = g.Reverse() ?? Enumerable.Range(0, side * side).Select(i => (long)i).ToArray();
        Assert.Equal(g.WindowCount * g.WindowArea, partition.Length);
        Assert.Equal(partition.Length, partition.Distinct().Count());
        for (int y = 0; y < side; y++)
            for (int x = 0; x < side; x++)
                Assert.Equal((long)y * g.PaddedWidth + x, partition[reverse[y * side + x]]);
    }

    [Fact]
    public void WindowsAreClampedOnlyWithTimmsRule()
    {
        var timm = WindowGeometry.Create(3, 3, 4, 2, clampToMap: true);
        Assert.Equal((3, false, false), (timm.Window, timm.IsShifted, timm.IsPadded));
        var torchvision = WindowGeometry.Create(3, 3, 4, 2, clampToMap: false);
        Assert.Equal((4, false, true), (torchvision.Window, torchvision.IsShifted, torchvision.IsPadded));
        Assert.Null(torchvision.ShiftMask());
    }

    [Fact]
    public void ShiftMaskSeparatesTheWrappedRegions()
    {
        // 4×4 map, window 2, shift 1: the last window row and column hold tokens wrapped around from the other side.
        var g = WindowGeometry.Create(4, 4, 2, 1, clampToMap: false);
        var mask = g.ShiftMask()!;
        Assert.Equal(4 * 4 * 4, mask.Length);
        Assert.All(mask.Take(16), v => Assert.Equal(0f, v));
        // Window 3 (bottom right) has four regions: every pair of distinct tokens is masked.
        for (int i = 0; i < 4; i++)
            for (int j = 0; j < 4; j++)
                Assert.Equal(i == j ? 0f : -100f, mask[(3 * 4 + i) * 4 + j]);
    }
}
