namespace CrossDistill.Models.Mlp;

/// <summary>The shape of a ResMLP; <see cref="InitValues"/> is the layer-scale start (timm uses 0.1 for 12 blocks).</summary>
public sealed record ResMlpSettings
{
    public int PatchSize { get; init; } = 16;
    public int EmbedDim { get; init; } = 384;
    public int Depth { get; init; } = 12;
    public double MlpRatio { get; init; } = 4;
    public float InitValues { get; init; } = 0.1f;

    /// <summary>These settings with a config's "patch_size", "embed_dim", "depth" and "mlp_ratio" options applied.</summary>
    public ResMlpSettings WithOptions(ModelConfig config) => this with
    {
        PatchSize = config.IntOption("patch_size", PatchSize),
        EmbedDim = config.IntOption("embed_dim", EmbedDim),
        Depth = config.IntOption("depth", Depth),
        MlpRatio = config.Option("mlp_ratio", MlpRatio),
    };
}

/// <summary>
/// ResMLP (Touvron et al.) with timm's names: stem.proj, blocks.N.norm1.alpha/beta (Affine),
/// blocks.N.linear_tokens, blocks.N.norm2, blocks.N.mlp_channels.fc1/fc2, blocks.N.ls1/ls2,
/// norm.alpha/beta, head. Features are block outputs (N, patches, D).
/// </summary>
public sealed class ResMlp : PatchMlpModel
{
    public ResMlpSettings Settings { get; }

    public ResMlp(string name, ModelConfig config, ResMlpSettings settings)
        : base(name, config, settings.PatchSize, settings.EmbedDim, settings.Depth,
            (_, dim, tokens) => new ResMlpBlock(dim, tokens, ChannelsHidden(name, dim, settings.MlpRatio), settings.InitValues, config.DropRate, config.DropPathRate),
            dim => new Affine(dim))
    {
        Settings = settings;
    }

    private static int ChannelsHidden(string name, int dim, double ratio)
    {
        int hidden = (int)(dim * ratio);
        if (hidden < 1) throw new ArgumentException($"{name}: option 'mlp_ratio' = {ratio} leaves no hidden units for width {dim}.");
        return hidden;
    }
}

/// <summary>ResMLP presets: timm's ResMLP-12 and a ResMLP-12 with 4×4 patches for 32×32 images.</summary>
[ModelPresets]
public static class ResMlpPresets
{
    public static IEnumerable<ModelPreset> Presets()
    {
        yield return Preset("resmlp_12_224", 224, new ResMlpSettings(), "ResMLP-S12 (timm: embed 384, 12 blocks, patch 16)");
        yield return Preset("resmlp_12_p4_32", 32, new ResMlpSettings { PatchSize = 4 }, "ResMLP-S12 with 4×4 patches for 32×32 images (64 tokens)");
    }

    private static ModelPreset Preset(string name, int imageSize, ResMlpSettings settings, string description)
        => new(name, "mlp", "timm", imageSize, description, config => new ResMlp(name, config, settings.WithOptions(config)));
}
