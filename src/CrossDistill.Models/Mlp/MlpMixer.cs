using CrossDistill.Engine;
using CrossDistill.Engine.Nn;

namespace CrossDistill.Models.Mlp;

/// <summary>The shape of an MLP-Mixer: the token MLP is tokens_mlp_ratio·D wide, the channel MLP mlp_ratio·D.</summary>
public sealed record MixerSettings
{
    public int PatchSize { get; init; } = 16;
    public int EmbedDim { get; init; } = 768;
    public int Depth { get; init; } = 12;
    public double TokensMlpRatio { get; init; } = 0.5;
    public double MlpRatio { get; init; } = 4;

    /// <summary>These settings with a config's "patch_size", "embed_dim", "depth", "tokens_mlp_ratio" and "mlp_ratio" options applied.</summary>
    public MixerSettings WithOptions(ModelConfig config) => this with
    {
        PatchSize = config.IntOption("patch_size", PatchSize),
        EmbedDim = config.IntOption("embed_dim", EmbedDim),
        Depth = config.IntOption("depth", Depth),
        TokensMlpRatio = config.Option("tokens_mlp_ratio", TokensMlpRatio),
        MlpRatio = config.Option("mlp_ratio", MlpRatio),
    };
}

/// <summary>
/// MLP-Mixer (Tolstikhin et al.) with timm's names: stem.proj, blocks.N.norm1,
/// blocks.N.mlp_tokens.fc1/fc2, blocks.N.norm2, blocks.N.mlp_channels.fc1/fc2, norm (LayerNorm eps
/// 1e-6), head. Features are block outputs (N, patches, D).
/// </summary>
public sealed class MlpMixer : PatchMlpModel
{
    public MixerSettings Settings { get; }

    public MlpMixer(string name, ModelConfig config, MixerSettings settings)
        : base(name, config, settings.PatchSize, settings.EmbedDim, settings.Depth,
            (_, dim, tokens) => new MixerBlock(dim, tokens, Hidden(name, "tokens_mlp_ratio", dim, settings.TokensMlpRatio), Hidden(name, "mlp_ratio", dim, settings.MlpRatio),
                config.DropRate, config.DropPathRate),
            dim => new LayerNorm(dim, 1e-6f))
    {
        Settings = settings;
    }

    private static int Hidden(string name, string option, int dim, double ratio)
    {
        int hidden = (int)(dim * ratio);
        if (hidden < 1) throw new ArgumentException($"{name}: option '{option}' = {ratio} leaves no hidden units for width {dim}.");
        return hidden;
    }
}

/// <summary>MLP-Mixer presets: timm's Mixer-B/16 and Mixer-S/16, and a Mixer-S with 4×4 patches for 32×32 images.</summary>
[ModelPresets]
public static class MlpMixerPresets
{
    public static IEnumerable<ModelPreset> Presets()
    {
        yield return Preset("mixer_b16_224", 224, new MixerSettings { PatchSize = 16, EmbedDim = 768, Depth = 12 }, "MLP-Mixer-B/16 (timm)");
        yield return Preset("mixer_s16_224", 224, new MixerSettings { PatchSize = 16, EmbedDim = 512, Depth = 8 }, "MLP-Mixer-S/16 (timm)");
        yield return Preset("mixer_s4_32", 32, new MixerSettings { PatchSize = 4, EmbedDim = 512, Depth = 8 }, "MLP-Mixer-S with 4×4 patches for 32×32 images (64 tokens)");
    }

    private static ModelPreset Preset(string name, int imageSize, MixerSettings settings, string description)
        => new(name, "mlp", "timm", imageSize, description, config => new MlpMixer(name, config, settings.WithOptions(config)));
}
