using CrossDistill.Engine.IO;
using CrossDistill.Engine.Nn;
using CrossDistill.Models;

namespace CrossDistill.Models.Tests;

public class TransformerWeightsTests
{
    [Fact]
    public void SavedWeightsLoadIntoAFreshModel()
    {
        var path = Path.Combine(Path.GetTempPath(), $"vit_weights_{Guid.NewGuid():N}.safetensors");
        var config = new ModelConfig { ImageSize = 16, NumClasses = 3, Options = new Dictionary<string, double> { ["embed_dim"] = 12, ["depth"] = 4, ["num_heads"] = 2 } };
        try
        {
            using var source = ModelZoo.Create("deit_tiny_p4_32", config);
            source.SaveWeights(path);
            using var target = ModelZoo.Create("deit_tiny_p4_32", config);
            target.LoadWeights(path);
            foreach (var ((name, a), (_, b)) in source.NamedParameters().Zip(target.NamedParameters()))
                Assert.True(a.ToArray().SequenceEqual(b.ToArray()), $"{name} differs after the round trip");
            Safetensors.Load(path, out var metadata);
            Assert.Equal("deit_tiny_p4_32", metadata["architecture"]);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void LoadingAnotherArchitecturesWeightsListsEveryProblemAndNamesTheFile()
    {
        var path = Path.Combine(Path.GetTempPath(), $"swin_weights_{Guid.NewGuid():N}.safetensors");
        try
        {
            var small = new ModelConfig { ImageSize = 16, NumClasses = 3, Options = new Dictionary<string, double> { ["embed_dim"] = 8 } };
            using (var timm = ModelZoo.Create("swin_pico_patch2_window4_32", small)) timm.SaveWeights(path);
            using var torchvision = ModelZoo.Create("swin_t", small with { Options = new Dictionary<string, double> { ["embed_dim"] = 24, ["window_size"] = 4, ["patch_size"] = 2 } });
            var before = torchvision.Parameters().First().ToArray();
            var e = Assert.Throws<StateDictException>(() => torchvision.LoadWeights(path));
            Assert.Contains(path, e.Message);
            Assert.Contains("features.1.0.attn.relative_position_index", e.MissingKeys);
            Assert.Contains("patch_embed.proj.weight", e.UnexpectedKeys);
            Assert.Equal(before, torchvision.Parameters().First().ToArray());
        }
        finally
        {
            File.Delete(path);
        }
    }
}
