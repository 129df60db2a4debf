using CrossDistill.Engine;
using CrossDistill.Engine.Nn;
using CrossDistill.Models.Transformers;

namespace CrossDistill.Models.Small;

/// <summary>
/// Two genuinely small architectures for tests, smoke runs and quick experiments: a four-stage
/// conv-BN-ReLU network and a four-block ViT. Options: tiny_cnn "width" (first stage's channels);
/// tiny_vit "embed_dim", "num_heads", "patch_size", "mlp_ratio".
/// </summary>
[ModelPresets]
public static class SmallNets
{
    public static IEnumerable<ModelPreset> Presets()
    {
        yield return new ModelPreset("tiny_cnn", "cnn", "torchvision", 32,
            "4 conv-BN-ReLU stages (16-32-64-128 channels, stride-2 downsampling), global pool, dropout (drop_rate), linear head.",
            c => new TinyCnn(c));
        yield return new ModelPreset("tiny_vit", "transformer", "timm", 32,
            "ViT with 4×4 patches, a class token and 4 pre-norm blocks (one per stage), 64-dim, 2 heads.",
            c => new TinyVit(c));
    }
}

/// <summary>A four-stage CNN: stem conv, then per stage conv3×3 (stride 2 after the first) + BN + ReLU.</summary>
public sealed class TinyCnn : VisionModel
{
    private readonly Sequential _stem;
    private readonly ModuleList<Sequential> _stages;
    private readonly Dropout _dropout;
    private readonly Linear _fc;
    private readonly int[] _widths;
    private readonly int[] _sides;

    public TinyCnn(ModelConfig config) : base(config)
    {
        int width = config.IntOption("width", 16);
        if (width < 1) throw new ArgumentException($"tiny_cnn: width must be positive, got {width}.");
        if (config.ImageSize < 8) throw new ArgumentException($"tiny_cnn: image size must be at least 8, got {config.ImageSize}.");
        _widths = new[] { width, 2 * width, 4 * width, 8 * width };
        _sides = new int[4];
        int side = config.ImageSize;
        _stem = RegisterModule("stem", ConvBnRelu(config.InChannels, width, 1));
        _stages = RegisterModule("stages", new ModuleList<Sequential>());
        int inputs = width;
        for (int i = 0; i < 4; i++)
        {
            int stride = i == 0 ? 1 : 2;
            side = (side + 2 - 3) / stride + 1;
            _sides[i] = side;
            _stages.Add(ConvBnRelu(inputs, _widths[i], stride));
            inputs = _widths[i];
        }
        _dropout = RegisterModule("dropout", new Dropout(config.DropRate));
        _fc = RegisterModule("fc", new Linear(_widths[3], config.NumClasses));
    }

    private static Sequential ConvBnRelu(int inputs, int outputs, int stride) =>
        new(("conv", new Conv2d(inputs, outputs, 3, stride, padding: 1, bias: false)), ("bn", new BatchNorm2d(outputs)), ("relu", new ReLU()));

    public override string ArchitectureName => "tiny_cnn";
    public override bool IsTokenModel => false;
    public override int FeatureDim => _widths[3];

    public override FeatureSpec[] StageOutputSpecs => Enumerable.Range(0, 4).Select(i => (FeatureSpec)new MapSpec(_widths[i], _sides[i], _sides[i])).ToArray();

    public override FeatureSpec[] StageInputSpecs => Enumerable.Range(0, 4)
        .Select(i => (FeatureSpec)(i == 0 ? new MapSpec(_widths[0], Config.ImageSize, Config.ImageSize) : new MapSpec(_widths[i - 1], _sides[i - 1], _sides[i - 1]))).ToArray();

    public override Tensor Stem(Tensor images) => _stem.Forward(images);

    public override Tensor Stage(int stage, Tensor input) => _stages[stage].Forward(input);

    public override Tensor Head(Tensor lastFeature) => _fc.Forward(_dropout.Forward(F.AdaptiveAvgPool2d(lastFeature, 1).Flatten(1)));
}

/// <summary>
/// A small ViT with timm's names: patch_embed.proj, cls_token, pos_embed, blocks.N (norm1,
/// attn.qkv, attn.proj, norm2, mlp.fc1, mlp.fc2), norm, head. Stage i is block i.
/// </summary>
public sealed class TinyVit : VisionModel
{
    private readonly Conv2d _patchEmbed;
    private readonly Tensor _clsToken, _posEmbed;
    private readonly ModuleList<EncoderBlock> _blocks;
    private readonly LayerNorm _norm;
    private readonly Linear _head;
    private readonly int _dim, _tokens;

    public TinyVit(ModelConfig config) : base(config)
    {
        _dim = config.IntOption("embed_dim", 64);
        int heads = config.IntOption("num_heads", 2);
        int patch = config.IntOption("patch_size", 4);
        double mlpRatio = config.Option("mlp_ratio", 2);
        if (patch < 1 || config.ImageSize % patch != 0)
            throw new ArgumentException($"tiny_vit: patch_size {patch} must divide the image size {config.ImageSize}.");
        if (heads < 1 || _dim % heads != 0) throw new ArgumentException($"tiny_vit: embed_dim {_dim} must be divisible by num_heads {heads}.");
        int grid = config.ImageSize / patch;
        _tokens = grid * grid + 1;
        var patchEmbed = new PatchEmbed(config.InChannels, _dim, patch);
        RegisterModule("patch_embed", patchEmbed);
        _patchEmbed = patchEmbed.Proj;
        _clsToken = RegisterParameter("cls_token", Torch.Zeros(1, 1, _dim));
        _posEmbed = RegisterParameter("pos_embed", Torch.Zeros(1, _tokens, _dim));
        Init.TruncNormal_(_posEmbed, std: 0.02);
        Init.TruncNormal_(_clsToken, std: 1e-6);
        _blocks = RegisterModule("blocks", new ModuleList<EncoderBlock>());
        for (int i = 0; i < 4; i++)
            _blocks.Add(new EncoderBlock(_dim, heads, (int)Math.Round(_dim * mlpRatio), 0f, config.DropPathRate * i / 3f, WeightNaming.Timm));
        _norm = RegisterModule("norm", new LayerNorm(_dim, 1e-6f));
        _head = RegisterModule("head", new Linear(_dim, config.NumClasses));
        foreach (var (name, p) in NamedParameters())
            if (name.StartsWith("blocks.", StringComparison.Ordinal) && p.Rank == 2)
                Init.TruncNormal_(p, std: 0.02);
    }

    public override string ArchitectureName => "tiny_vit";
    public override bool IsTokenModel => true;
    public override int FeatureDim => _dim;
    public override FeatureSpec[] StageOutputSpecs => Enumerable.Repeat((FeatureSpec)new TokenSpec(_tokens, _dim, 1), 4).ToArray();
    public override FeatureSpec[] StageInputSpecs => StageOutputSpecs;

    public override Tensor Stem(Tensor images)
    {
        var patches = _patchEmbed.Forward(images).Flatten(2).Transpose(1, 2);
        int n = patches.Shape[0];
        var tokens = Torch.Cat(new[] { _clsToken.Expand(n, 1, _dim), patches }, 1);
        return tokens + _posEmbed;
    }

    public override Tensor Stage(int stage, Tensor input) => _blocks[stage].Forward(input);

    public override Tensor Head(Tensor lastFeature) => _head.Forward(_norm.Forward(lastFeature).Select(1, 0));

    private sealed class PatchEmbed : Module
    {
        public PatchEmbed(int inChannels, int dim, int patch) => Proj = RegisterModule("proj", new Conv2d(inChannels, dim, patch, patch));
        public Conv2d Proj { get; }
    }
}
