using CrossDistill.Engine;
using CrossDistill.Engine.Nn;

namespace CrossDistill.Models.Transformers;

/// <summary>The shape of a ViT/DeiT: patch size, width, depth, heads and MLP ratio, and whose weight names it uses.</summary>
public sealed record VitSettings
{
    public int PatchSize { get; init; } = 16;
    public int EmbedDim { get; init; } = 768;
    public int Depth { get; init; } = 12;
    public int NumHeads { get; init; } = 12;
    public double MlpRatio { get; init; } = 4;
    public WeightNaming Naming { get; init; } = WeightNaming.Timm;

    /// <summary>These settings with a config's "patch_size", "embed_dim", "depth", "num_heads" and "mlp_ratio" options applied.</summary>
    public VitSettings WithOptions(ModelConfig config) => this with
    {
        PatchSize = config.IntOption("patch_size", PatchSize),
        EmbedDim = config.IntOption("embed_dim", EmbedDim),
        Depth = config.IntOption("depth", Depth),
        NumHeads = config.IntOption("num_heads", NumHeads),
        MlpRatio = config.Option("mlp_ratio", MlpRatio),
    };
}

/// <summary>
/// The Vision Transformer (Dosovitskiy et al.) as timm's VisionTransformer and DeiT, and as
/// torchvision's vit_b_16 under its own weight names: a patch-embedding convolution, a class token
/// and learned position embedding, pre-norm blocks (LayerNorm eps 1e-6, exact GELU), a final norm
/// and a linear head on the class token. Features are block outputs (N, 1 + patches, D) with the
/// class token first; the 4 stages cut the blocks as <see cref="StageLayout.BlockEnds"/> (block
/// outputs 1, 3, 9, 11 for 12 blocks).
/// </summary>
public sealed class VisionTransformer : VisionModel
{
    private readonly string _name;
    private readonly EncoderBlock[] _blocks;
    private readonly int[] _stageEnds;
    private readonly TokenSpec _tokens;

    public VitSettings Settings { get; }
    public int GridSize { get; }
    public Conv2d PatchEmbed { get; }
    public Tensor ClassToken { get; }
    public Tensor PosEmbed { get; }
    public IReadOnlyList<EncoderBlock> Blocks => _blocks;
    public LayerNorm Norm { get; }
    public Linear Classifier { get; }

    public VisionTransformer(string name, ModelConfig config, VitSettings settings) : base(config)
    {
        _name = name;
        Settings = settings;
        ModelChecks.Config(name, config);
        ModelChecks.Positive(name, "patch_size", settings.PatchSize);
        ModelChecks.Positive(name, "embed_dim", settings.EmbedDim);
        ModelChecks.Positive(name, "num_heads", settings.NumHeads);
        ModelChecks.Positive(name, "mlp_ratio", settings.MlpRatio);
        if (settings.EmbedDim % settings.NumHeads != 0)
            throw new ArgumentException($"{name}: embed_dim {settings.EmbedDim} is not divisible by num_heads {settings.NumHeads}.");
        if (config.ImageSize < settings.PatchSize)
            throw new ArgumentException($"{name}: image size {config.ImageSize} is smaller than the patch size {settings.PatchSize}.");
        _stageEnds = StageLayout.BlockEnds(settings.Depth);

        int dim = settings.EmbedDim;
        GridSize = config.ImageSize / settings.PatchSize;
        _tokens = new TokenSpec(1 + GridSize * GridSize, dim, PrefixTokens: 1);
        int mlpHidden = (int)(dim * settings.MlpRatio);
        var dropPath = StageLayout.DropPathRates(settings.Depth, config.DropPathRate);
        _blocks = Enumerable.Range(0, settings.Depth)
            .Select(i => new EncoderBlock(dim, settings.NumHeads, mlpHidden, config.DropRate, dropPath[i], settings.Naming)).ToArray();

        PatchEmbed = new Conv2d(config.InChannels, dim, settings.PatchSize, stride: settings.PatchSize);
        if (settings.Naming == WeightNaming.Timm)
        {
            RegisterModule("patch_embed", new ModuleGroup()).Add("proj", PatchEmbed);
            ClassToken = RegisterParameter("cls_token", Torch.Zeros(1, 1, dim));
            PosEmbed = RegisterParameter("pos_embed", Torch.Zeros(1, _tokens.Tokens, dim));
            RegisterModule("blocks", new ModuleList<EncoderBlock>(_blocks));
            Norm = RegisterModule("norm", new LayerNorm(dim, 1e-6f));
            Classifier = RegisterModule("head", new Linear(dim, config.NumClasses));
            InitTimm();
        }
        else
        {
            RegisterModule("conv_proj", PatchEmbed);
            ClassToken = RegisterParameter("class_token", Torch.Zeros(1, 1, dim));
            var encoder = RegisterModule("encoder", new ModuleGroup());
            PosEmbed = encoder.AddParameter("pos_embedding", Torch.Zeros(1, _tokens.Tokens, dim));
            var layers = encoder.Add("layers", new ModuleGroup());
            for (int i = 0; i < _blocks.Length; i++) layers.Add($"encoder_layer_{i}", _blocks[i]);
            Norm = encoder.Add("ln", new LayerNorm(dim, 1e-6f));
            Classifier = RegisterModule("heads", new ModuleGroup()).Add("head", new Linear(dim, config.NumClasses));
            InitTorchvision();
        }
    }

    /// <summary>timm's init: trunc-normal(0.02) position embedding and linear weights, zero biases, a near-zero class token.</summary>
    private void InitTimm()
    {
        Init.TruncNormal_(PosEmbed, std: 0.02);
        Init.Normal_(ClassToken, std: 1e-6);
        foreach (var linear in Modules().OfType<Linear>())
        {
            Init.TruncNormal_(linear.Weight, std: 0.02);
            if (linear.Bias is not null) Init.Zeros_(linear.Bias);
        }
    }

    /// <summary>torchvision's init: LeCun trunc-normal patch projection, normal(0.02) positions, Xavier MLPs, a zero head.</summary>
    private void InitTorchvision()
    {
        var (fanIn, _) = Init.CalculateFanInAndFanOut(PatchEmbed.Weight);
        Init.TruncNormal_(PatchEmbed.Weight, std: Math.Sqrt(1.0 / fanIn));
        Init.Zeros_(PatchEmbed.Bias!);
        Init.Normal_(PosEmbed, std: 0.02);
        foreach (var block in _blocks)
        {
            Init.Zeros_(block.Attention.Proj.Bias!);
            foreach (var linear in new[] { block.Mlp.Fc1, block.Mlp.Fc2 })
            {
                Init.XavierUniform_(linear.Weight);
                Init.Normal_(linear.Bias!, std: 1e-6);
            }
        }
        Init.Zeros_(Classifier.Weight);
        Init.Zeros_(Classifier.Bias!);
    }

    public override string ArchitectureName => _name;
    public override bool IsTokenModel => true;
    public override int FeatureDim => Settings.EmbedDim;
    public override FeatureSpec[] StageOutputSpecs => new FeatureSpec[] { _tokens, _tokens, _tokens, _tokens };
    public override FeatureSpec[] StageInputSpecs => StageOutputSpecs;

    /// <summary>Patch embedding, class token in front, position embedding, dropout: (N, 1 + patches, D).</summary>
    public override Tensor Stem(Tensor images)
    {
        ModelChecks.Images(_name, Config, images);
        var patches = ModelChecks.MapToTokens(PatchEmbed.Forward(images));
        var classTokens = ClassToken.Expand(images.Shape[0], 1, Settings.EmbedDim);
        var tokens = Torch.Cat(new[] { classTokens, patches }, 1) + PosEmbed;
        return F.Dropout(tokens, Config.DropRate, Training);
    }

    public override Tensor Stage(int stage, Tensor input)
    {
        ModelChecks.Stage(_name, stage);
        ModelChecks.Tokens(_name, $"the input of stage {stage}", _tokens, input);
        var x = input;
        for (int b = stage == 0 ? 0 : _stageEnds[stage - 1]; b < _stageEnds[stage]; b++) x = _blocks[b].Forward(x);
        return x;
    }

    /// <summary>Final norm, the class token, the classifier.</summary>
    public override Tensor Head(Tensor lastFeature)
    {
        ModelChecks.Tokens(_name, "the last feature", _tokens, lastFeature);
        return Classifier.Forward(Norm.Forward(lastFeature).Select(1, 0));
    }
}

/// <summary>ViT and DeiT presets: timm's names and shapes, torchvision's vit_b_16, and 32×32 ones with 4×4 patches.</summary>
[ModelPresets]
public static class VisionTransformerPresets
{
    public static IEnumerable<ModelPreset> Presets()
    {
        yield return Timm("deit_tiny_patch16_224", 224, 16, 192, 3, "DeiT-Tiny/16 (timm)");
        yield return Timm("deit_small_patch16_224", 224, 16, 384, 6, "DeiT-Small/16 (timm)");
        yield return Timm("deit_base_patch16_224", 224, 16, 768, 12, "DeiT-Base/16 (timm)");
        yield return Timm("vit_tiny_patch16_224", 224, 16, 192, 3, "ViT-Tiny/16 (timm)");
        yield return Timm("vit_small_patch16_224", 224, 16, 384, 6, "ViT-Small/16 (timm)");
        yield return Timm("vit_base_patch16_224", 224, 16, 768, 12, "ViT-Base/16 (timm)");
        yield return Preset("vit_b_16", 224, new VitSettings { PatchSize = 16, EmbedDim = 768, Depth = 12, NumHeads = 12, Naming = WeightNaming.Torchvision },
            "ViT-B/16 with torchvision's weight names");
        yield return Timm("vit_tiny_p4_32", 32, 4, 192, 3, "ViT-Tiny with 4×4 patches for 32×32 images (65 tokens; the engine benchmark model)");
        yield return Timm("vit_small_p4_32", 32, 4, 384, 6, "ViT-Small with 4×4 patches for 32×32 images");
        yield return Timm("deit_tiny_p4_32", 32, 4, 192, 3, "DeiT-Tiny with 4×4 patches for 32×32 images (same network as vit_tiny_p4_32)");
        yield return Timm("deit_small_p4_32", 32, 4, 384, 6, "DeiT-Small with 4×4 patches for 32×32 images (same network as vit_small_p4_32)");
    }

    private static ModelPreset Timm(string name, int imageSize, int patch, int dim, int heads, string description)
        => Preset(name, imageSize, new VitSettings { PatchSize = patch, EmbedDim = dim, Depth = 12, NumHeads = heads }, description);

    private static ModelPreset Preset(string name, int imageSize, VitSettings settings, string description)
        => new(name, "transformer", settings.Naming.PresetName(), imageSize, description,
            config => new VisionTransformer(name, config, settings.WithOptions(config)));
}
