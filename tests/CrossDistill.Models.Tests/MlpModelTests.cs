using CrossDistill.Models;
using CrossDistill.Models.Mlp;

namespace CrossDistill.Models.Tests;

public class MlpModelTests
{
    [Fact]
    public void MixerWithTwoInputChannelsAndFiveBlocksMatchesTheReference()
    {
        using var fixture = TransformerModelFixture.Load("mixer_timm");
        using var model = new MlpMixer("mixer_test", new ModelConfig { ImageSize = 16, NumClasses = 7, InChannels = 2 },
            new MixerSettings { PatchSize = 4, EmbedDim = 20, Depth = 5 });
        fixture.Check(model);
    }

    [Fact]
    public void ResMlpMatchesTheReference()
    {
        using var fixture = TransformerModelFixture.Load("resmlp_timm");
        using var model = new ResMlp("resmlp_test", new ModelConfig { ImageSize = 16, NumClasses = 7 },
            new ResMlpSettings { PatchSize = 4, EmbedDim = 20, Depth = 12 });
        fixture.Check(model);
    }
}
