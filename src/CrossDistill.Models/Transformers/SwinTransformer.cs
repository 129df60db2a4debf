using CrossDistill.Engine;
using CrossDistill.Engine.Nn;

namespace CrossDistill.Models.Transformers;

/// <summary>The shape of a Swin Transformer and whose weight names it uses.</summary>
public sealed record SwinSettings
{
    public int PatchSize { get; init; } = 4;
    public int EmbedDim { get; init; } = 96;
    public int[] Depths { get; init; } = { 2, 2, 6, 2 };
    public int[] NumHeads { get; init; } = { 3, 6, 12, 24 };
    public int WindowSize { get; init; } = 7;
    public double MlpRatio { get; init; } = 4;
    public WeightNaming Naming { get; init; } = WeightNaming.Timm;

    /// <summary>
    /// timm's rule that a map no larger than the window is attended as one unshifted window of the
    /// map's size (the bias table shrinks with it). torchvision instead pads the map to a full window,
    /// so torchvision-named models keep the window (and stay loadable from torchvision checkpoints).
    /// </summary>
    public bool ClampWindowToMap => Naming == WeightNaming.Timm;

    /// <summary>These settings with a config's "patch_size", "embed_dim", "window_size" and "mlp_ratio" options applied.</summary>
    public SwinSettings WithOptions(ModelConfig config) => this with
    {
        PatchSize = config.IntOption("patch_size", PatchSize),
        EmbedDim = config.IntOption("embed_dim", EmbedDim),
        WindowSize = config.IntOption("window_size", WindowSize),
        MlpRatio = config.Option("mlp_ratio", MlpRatio),
    };
}

/// <summary>
/// The Swin Transformer (Liu et al.): a patch embedding with LayerNorm, four stages of window
/// attention blocks (shifted windows with the attention mask on every second block, relative
/// position bias), patch merging between stages, a final norm, average pooling and a linear head.
/// Maps whose sides are not window multiples are padded as torchvision does. With timm's names
/// (patch_embed, layers.i.blocks.j, layers.i.downsample, norm, head; timm 0.6 layout) or
/// torchvision's (features.0 = patch embedding, features.1/3/5/7 = stages, features.2/4/6 = merging,
/// norm, head). Stage i's feature is its last block's output as tokens (N, H·W, C), before the
/// merging; <see cref="VisionModel.StageInput"/> applies the merging for stages 1–3.
/// </summary>
public sealed class SwinTransformer : VisionModel
{
    private readonly string _name;
    private readonly SwinBlock[][] _stages;
    private readonly PatchMerging[] _merges;
    private readonly TokenSpec[] _specs;

    public SwinSettings Settings { get; }
    public Conv2d PatchEmbed { get; }
    public LayerNorm PatchNorm { get; }
    public IReadOnlyList<IReadOnlyList<SwinBlock>> Stages => _stages;
    public IReadOnlyList<PatchMerging> Merges => _merges;
    public LayerNorm Norm { get; }
    public Linear Classifier { get; }

    public SwinTransformer(string name, ModelConfig config, SwinSettings settings) : base(config)
    {
        _name = name;
        Settings = settings;
        ModelChecks.Config(name, config);
        ModelChecks.Positive(name, "patch_size", settings.PatchSize);
        ModelChecks.Positive(name, "embed_dim", settings.EmbedDim);
        ModelChecks.Positive(name, "window_size", settings.WindowSize);
        ModelChecks.Positive(name, "mlp_ratio", settings.MlpRatio);
        if (settings.Depths.Length != 4 || settings.NumHeads.Length != 4 || settings.Depths.Any(d => d < 1))
            throw new ArgumentException($"{name}: Swin needs 4 stages of at least one block and 4 head counts, got depths ({string.Join(", ", settings.Depths)}) and heads ({string.Join(", ", settings.NumHeads)}).");
        if (config.ImageSize < settings.PatchSize)
            throw new ArgumentException($"{name}: image size {config.ImageSize} is smaller than the patch size {settings.PatchSize}.");

        var dropPath = StageLayout.DropPathRates(settings.Depths.Sum(), config.DropPathRate);
        int resolution = config.ImageSize / settings.PatchSize, block = 0;
        _specs = new TokenSpec[4];
        _stages = new SwinBlock[4][];
        _merges = new PatchMerging[3];
        for (int i = 0; i < 4; i++)
        {
            int dim = settings.EmbedDim << i;
            if (dim % settings.NumHeads[i] != 0)
                throw new ArgumentException($"{name}: stage {i} width {dim} is not divisible by its {settings.NumHeads[i]} heads.");
            _specs[i] = new TokenSpec(resolution * resolution, dim);
            _stages[i] = new SwinBlock[settings.Depths[i]];
            for (int j = 0; j < settings.Depths[i]; j++)
            {
                var geometry = WindowGeometry.Create(resolution, resolution, settings.WindowSize, j % 2 == 0 ? 0 : settings.WindowSize / 2, settings.ClampWindowToMap);
                _stages[i][j] = new SwinBlock(dim, settings.NumHeads[i], geometry, settings.MlpRatio, config.DropRate, dropPath[block++], settings.Naming);
            }
            if (i < 3)
            {
                _merges[i] = new PatchMerging(dim, resolution, resolution);
                resolution = _merges[i].OutHeight;
            }
        }

        PatchEmbed = new Conv2d(config.InChannels, settings.EmbedDim, settings.PatchSize, stride: settings.PatchSize);
        PatchNorm = new LayerNorm(settings.EmbedDim);
        int features = settings.EmbedDim << 3;
        if (settings.Naming == WeightNaming.Timm)
        {
            var patchEmbed = RegisterModule("patch_embed", new ModuleGroup());
            patchEmbed.Add("proj", PatchEmbed);
            patchEmbed.Add("norm", PatchNorm);
            var layers = RegisterModule("layers", new ModuleGroup());
            for (int i = 0; i < 4; i++)
            {
                var layer = layers.Add(i.ToString(System.Globalization.CultureInfo.InvariantCulture), new ModuleGroup());
                layer.Add("blocks", new ModuleList<SwinBlock>(_stages[i]));
                if (i < 3) layer.Add("downsample", _merges[i]);
            }
        }
        else
        {
            var stages = RegisterModule("features", new ModuleGroup());
            var stem = stages.Add("0", new ModuleGroup());
            stem.Add("0", PatchEmbed);
            stem.Add("2", PatchNorm);
            for (int i = 0; i < 4; i++)
            {
                stages.Add((2 * i + 1).ToString(System.Globalization.CultureInfo.InvariantCulture), new ModuleList<SwinBlock>(_stages[i]));
                if (i < 3) stages.Add((2 * i + 2).ToString(System.Globalization.CultureInfo.InvariantCulture), _merges[i]);
            }
        }
        Norm = RegisterModule("norm", new LayerNorm(features));
        Classifier = RegisterModule("head", new Linear(features, config.NumClasses));

        // Both libraries: trunc-normal(0.02) linear weights with zero biases (the bias tables are drawn in WindowAttention).
        foreach (var linear in Modules().OfType<Linear>())
        {
            Init.TruncNormal_(linear.Weight, std: 0.02);
            if (linear.Bias is not null) Init.Zeros_(linear.Bias);
        }
    }

    public override string ArchitectureName => _name;
    public override bool IsTokenModel => true;
    public override int FeatureDim => Settings.EmbedDim << 3;
    public override FeatureSpec[] StageOutputSpecs => _specs.ToArray<FeatureSpec>();
    public override FeatureSpec[] StageInputSpecs => StageOutputSpecs;

    /// <summary>Patch embedding and its norm (timm then applies its position dropout): (N, H·W, C).</summary>
    public override Tensor Stem(Tensor images)
    {
        ModelChecks.Images(_name, Config, images);
        var tokens = PatchNorm.Forward(ModelChecks.MapToTokens(PatchEmbed.Forward(images)));
        return Settings.Naming == WeightNaming.Timm ? F.Dropout(tokens, Config.DropRate, Training) : tokens;
    }

    /// <summary>Patch merging before stages 1–3.</summary>
    public override Tensor StageInput(int stage, Tensor previous)
    {
        ModelChecks.Stage(_name, stage);
        if (stage == 0) return previous;
        ModelChecks.Tokens(_name, $"the feature of stage {stage - 1}", _specs[stage - 1], previous);
        return _merges[stage - 1].Forward(previous);
    }

    public override Tensor Stage(int stage, Tensor input)
    {
        ModelChecks.Stage(_name, stage);
        ModelChecks.Tokens(_name, $"the input of stage {stage}", _specs[stage], input);
        var x = input;
        foreach (var block in _stages[stage]) x = block.Forward(x);
        return x;
    }

    /// <summary>Final norm, the mean over tokens, the classifier.</summary>
    public override Tensor Head(Tensor lastFeature)
    {
        ModelChecks.Tokens(_name, "the last feature", _specs[3], lastFeature);
        return Classifier.Forward(Norm.Forward(lastFeature).Mean(1));
    }
}

/// <summary>Swin presets: torchvision's swin_t, and timm-named Swin-Pico/Nano (PAT's students) plus a 32×32 Swin-Pico.</summary>
[ModelPresets]
public static class SwinTransformerPresets
{
    public static IEnumerable<ModelPreset> Presets()
    {
        yield return Preset("swin_t", 224, new SwinSettings { Naming = WeightNaming.Torchvision }, "Swin-T (embed 96, depths 2-2-6-2, window 7) with torchvision's weight names");
        yield return Preset("swin_pico_patch4_window7_224", 224, new SwinSettings { EmbedDim = 48, Depths = new[] { 2, 2, 2, 2 }, NumHeads = new[] { 2, 4, 8, 16 } },
            "Swin-Pico (embed 48, depths 2-2-2-2, heads 2-4-8-16, window 7; PAT's Swin-P), timm names");
        yield return Preset("swin_nano_patch4_window7_224", 224, new SwinSettings { EmbedDim = 64, Depths = new[] { 2, 2, 2, 2 }, NumHeads = new[] { 2, 4, 8, 16 } },
            "Swin-Nano (embed 64, depths 2-2-2-2, heads 2-4-8-16, window 7; PAT's Swin-N), timm names");
        yield return Preset("swin_pico_patch2_window4_32", 32, new SwinSettings { PatchSize = 2, EmbedDim = 48, Depths = new[] { 2, 2, 2, 2 }, NumHeads = new[] { 2, 4, 8, 16 }, WindowSize = 4 },
            "Swin-Pico for 32×32 images: 2×2 patches, window 4 (maps 16, 8, 4, 2), timm names");
    }

    private static ModelPreset Preset(string name, int imageSize, SwinSettings settings, string description)
        => new(name, "transformer", settings.Naming.PresetName(), imageSize, description,
            config => new SwinTransformer(name, config, settings.WithOptions(config)));
}
