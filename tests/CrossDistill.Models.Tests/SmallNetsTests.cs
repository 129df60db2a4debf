using CrossDistill.Models;

namespace CrossDistill.Models.Tests;

public class SmallNetsTests
{
    [Theory]
    [InlineData("tiny_cnn", 32, 3)]
    [InlineData("tiny_cnn", 20, 1)]
    [InlineData("tiny_vit", 32, 3)]
    [InlineData("tiny_vit", 16, 1)]
    public void StageFeaturesHaveTheAnnouncedShapes(string name, int size, int channels)
    {
        using var scope = DisposeScope.Enter();
        using var model = ModelZoo.Create(name, new ModelConfig { NumClasses = 7, ImageSize = size, InChannels = channels });
        var images = Torch.Randn(new[] { 2, channels, size, size }, new Generator(1));
        var output = model.ForwardFeatures(images);
        Assert.Equal(new[] { 2, 7 }, output.Logits.Shape);
        for (int i = 0; i < 4; i++)
            Assert.Equal(new[] { 2 }.Concat(model.StageOutputSpecs[i].Shape), output.Features[i].Shape);
        output.Logits.Sum().Backward();
        Assert.All(model.Parameters(), p => Assert.NotNull(p.Grad));
    }

    [Fact]
    public void TinyVitUsesTimmNames()
    {
        using var model = ModelZoo.Create("tiny_vit", new ModelConfig { NumClasses = 10, ImageSize = 32 });
        var keys = model.StateDict().Keys.ToList();
        foreach (var key in new[] { "cls_token", "pos_embed", "patch_embed.proj.weight", "blocks.0.norm1.weight", "blocks.0.attn.qkv.weight", "blocks.0.attn.proj.bias", "blocks.3.mlp.fc2.weight", "norm.weight", "head.weight" })
            Assert.Contains(key, keys);
        Assert.Equal(new[] { 1, 65, 64 }, model.StateDict()["pos_embed"].Shape);
    }
}
