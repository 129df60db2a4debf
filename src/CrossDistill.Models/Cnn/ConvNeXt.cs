using CrossDistill.Engine;
using CrossDistill.Engine.Nn;

namespace CrossDistill.Models.Cnn;

/// <summary>
/// ConvNeXt as torchvision.models.ConvNeXt, with its state-dict names: features.0 is the stem (a
/// 4×4/4 convolution and a LayerNorm2d), features.1, 3, 5, 7 the stages of CNBlocks,
/// features.2, 4, 6 the downsampling layers (LayerNorm2d, 2×2/2 convolution), classifier.0 a
/// LayerNorm2d and classifier.2 the Linear. Stage i &gt; 0 starts with its downsampling layer
/// (research notes §1.1). Stochastic depth grows linearly from 0 at the first block to
/// <see cref="ModelConfig.DropPathRate"/> at the last, as torchvision;
/// <see cref="ModelConfig.DropRate"/> &gt; 0 adds dropout before the Linear (timm's drop_rate;
/// torchvision has none). Small variants come from two options: "dim" (default 96) is the first
/// stage's width, the others being 2×, 4× and 8× it, and "depth_multiplier" (default 1) scales the
/// stage depths [3, 3, 9, 3] of ConvNeXt-T, rounding to the nearest integer with at least one
/// block per stage (1/3 gives [1, 1, 3, 1]).
/// </summary>
public sealed class ConvNeXt : CnnModel
{
    /// <summary>ConvNeXt-T's blocks per stage.</summary>
    public static readonly int[] TinyDepths = { 3, 3, 9, 3 };

    private readonly Sequential _features;
    private readonly LayerNorm2d _headNorm;
    private readonly Linear _headLinear;

    public ConvNeXt(string architectureName, ModelConfig config, int[] depths, int[] dims, float layerScale = 1e-6f) : base(architectureName, config)
    {
        ArgumentNullException.ThrowIfNull(depths);
        ArgumentNullException.ThrowIfNull(dims);
        if (depths.Length != 4 || depths.Any(d => d < 1))
            throw new ArgumentException($"{architectureName}: depths must be 4 positive block counts, got [{string.Join(", ", depths)}].", nameof(depths));
        if (dims.Length != 4 || dims.Any(d => d < 1))
            throw new ArgumentException($"{architectureName}: dims must be 4 positive widths, got [{string.Join(", ", dims)}].", nameof(dims));
        RejectUnknownOptions("dim", "depth_multiplier");
        Depths = (int[])depths.Clone();
        Dims = (int[])dims.Clone();

        int side = WindowOutput(config.ImageSize, 4, 4);
        var stem = new MapSpec(dims[0], side, side);
        var stages = new MapSpec[4];
        for (int i = 0; i < 4; i++)
        {
            if (i > 0) side = WindowOutput(side, 2, 2);
            stages[i] = new MapSpec(dims[i], side, side);
        }
        SetFeatureShapes(stem, stages);

        _features = RegisterModule("features", new Sequential());
        _features.Add(new Sequential(new Conv2d(config.InChannels, dims[0], 4, stride: 4, bias: true), new LayerNorm2d(dims[0])));
        int totalBlocks = depths.Sum(), blockId = 0;
        for (int i = 0; i < 4; i++)
        {
            if (i > 0) _features.Add(new Sequential(new LayerNorm2d(dims[i - 1]), new Conv2d(dims[i - 1], dims[i], 2, stride: 2, bias: true)));
            var stage = new Sequential();
            for (int b = 0; b < depths[i]; b++, blockId++)
            {
                float dropPath = totalBlocks > 1 ? config.DropPathRate * blockId / (totalBlocks - 1f) : 0f;
                stage.Add(new CNBlock(dims[i], layerScale, dropPath));
            }
            _features.Add(stage);
        }
        FeatureDim = dims[3];
        _headNorm = new LayerNorm2d(dims[3]);
        _headLinear = new Linear(dims[3], config.NumClasses);
        RegisterModule("classifier", new Sequential(_headNorm, new Flatten(1), _headLinear));

        foreach (var module in Modules())
        {
            var (weight, bias) = module switch
            {
                Conv2d conv => (conv.Weight, conv.Bias),
                Linear linear => (linear.Weight, linear.Bias),
                _ => ((Tensor?)null, (Tensor?)null),
            };
            if (weight is null) continue;
            Init.TruncNormal_(weight, std: 0.02);
            if (bias is not null) Init.Zeros_(bias);
        }
    }

    /// <summary>The stage widths for option "dim": dim, 2·dim, 4·dim, 8·dim.</summary>
    public static int[] DimsFor(ModelConfig config, int defaultDim = 96)
    {
        int dim = config.IntOption("dim", defaultDim);
        if (dim < 1) throw new ArgumentException($"ConvNeXt: option dim must be positive, got {dim}.", nameof(config));
        return new[] { dim, 2 * dim, 4 * dim, 8 * dim };
    }

    /// <summary>The stage depths for option "depth_multiplier" applied to <paramref name="baseDepths"/>.</summary>
    public static int[] DepthsFor(ModelConfig config, int[] baseDepths)
    {
        double multiplier = config.Option("depth_multiplier", 1.0);
        if (!(multiplier > 0)) throw new ArgumentException($"ConvNeXt: option depth_multiplier must be positive, got {multiplier}.", nameof(config));
        return baseDepths.Select(d => Math.Max(1, (int)Math.Round(d * multiplier, MidpointRounding.AwayFromZero))).ToArray();
    }

    public int[] Depths { get; }

    public int[] Dims { get; }

    public override int FeatureDim { get; }

    public override Tensor Stem(Tensor images)
    {
        CheckImages(images);
        return BlockScope.Run(_features[0], images);
    }

    public override Tensor Stage(int stage, Tensor input)
    {
        CheckStage(stage);
        var x = stage == 0 ? input : BlockScope.Run(_features[2 * stage], input);
        return BlockScope.RunAll((Sequential)_features[2 * stage + 1], x);
    }

    public override Tensor Head(Tensor lastFeature)
    {
        var pooled = _headNorm.Forward(F.AdaptiveAvgPool2d(lastFeature, 1)).Flatten(1);
        return _headLinear.Forward(F.Dropout(pooled, Config.DropRate, Training));
    }
}

/// <summary>
/// torchvision's LayerNorm2d: LayerNorm over the channels of an (N, C, H, W) map. A channels-last
/// map permuted to (N, H, W, C) is already row-major, so the normalisation reads it in place and the
/// result permuted back is channels-last again.
/// </summary>
public sealed class LayerNorm2d : Module<Tensor, Tensor>
{
    public LayerNorm2d(int channels, float eps = 1e-6f)
    {
        Channels = channels;
        Eps = eps;
        Weight = RegisterParameter("weight", Torch.Ones(channels));
        Bias = RegisterParameter("bias", Torch.Zeros(channels));
    }

    public int Channels { get; }
    public float Eps { get; }
    public Tensor Weight { get; }
    public Tensor Bias { get; }

    public override Tensor Forward(Tensor x)
    {
        if (x.Rank != 4 || x.Shape[1] != Channels)
            throw new ArgumentException($"LayerNorm2d({Channels}): expected (N, {Channels}, H, W), got {ShapeUtil.Format(x.Shape)}.", nameof(x));
        return F.LayerNorm(x.Permute(0, 2, 3, 1), new[] { Channels }, Weight, Bias, Eps).Permute(0, 3, 1, 2);
    }
}

/// <summary>
/// torchvision's CNBlock: depthwise 7×7 convolution, then on channels-last pixels LayerNorm,
/// Linear to 4C, GELU and Linear back (block.0…6), scaled per channel by layer_scale (C, 1, 1),
/// dropped per sample with stochastic depth, and added to the input.
/// </summary>
public sealed class CNBlock : Module<Tensor, Tensor>
{
    private readonly Sequential _block;

    public CNBlock(int dim, float layerScale, float stochasticDepthProb)
    {
        LayerScale = RegisterParameter("layer_scale", Torch.Full(new[] { dim, 1, 1 }, layerScale));
        _block = RegisterModule("block", new Sequential(
            new Conv2d(dim, dim, 7, padding: 3, groups: dim, bias: true),
            new Lambda(x => x.Permute(0, 2, 3, 1)),
            new LayerNorm(dim, eps: 1e-6f),
            new Linear(dim, 4 * dim),
            new GELU(),
            new Linear(4 * dim, dim),
            new Lambda(x => x.Permute(0, 3, 1, 2))));
        StochasticDepthProb = stochasticDepthProb;
    }

    public Tensor LayerScale { get; }

    public float StochasticDepthProb { get; }

    public override Tensor Forward(Tensor x)
    {
        var branch = LayerScale * _block.Forward(x);
        return F.DropPath(branch, StochasticDepthProb, Training) + x;
    }
}
