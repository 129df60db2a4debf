using CrossDistill.Engine;
using CrossDistill.Engine.Nn;

namespace CrossDistill.Models.Cnn;

/// <summary>
/// MobileNetV2 as torchvision.models.MobileNetV2, with its state-dict names: features.0 is the
/// stem (conv, BN, ReLU6), features.1…17 the inverted residual blocks (features.N.conv.…),
/// features.18 the 1×1 convolution to 1280 channels, classifier.0 dropout
/// (<see cref="ModelConfig.DropRate"/>; torchvision's default is 0.2) and classifier.1 the
/// Linear. Options as torchvision's arguments: "width_mult" (default 1) and "round_nearest"
/// (default 8): every width is rounded to a multiple of round_nearest, never more than 10% down,
/// and the last convolution has 1280·max(1, width_mult) channels.
/// <para>
/// Stages follow timm's feature indices 2, 5, 12, 17 (PAT, research notes §1.1): stage 1 =
/// features.1–3, stage 2 = features.4–6, stage 3 = features.7–13, stage 4 = features.14–18,
/// ending with the 1280-channel convolution; the strides are 4, 8, 16 and 32.
/// </para>
/// <para>
/// The CIFAR variant (<c>cifar</c>) makes the stem and features.4 (the second stride-2 block, the
/// first of stage 2) stride 1, so the overall stride is 8 and a 32×32 image gives 16, 16, 8 and 4
/// pixel maps; the parameters are the same as the ImageNet network's.
/// </para>
/// </summary>
public sealed class MobileNetV2 : CnnModel
{
    // t (expansion), c (channels), n (blocks), s (first block's stride), as torchvision.
    private static readonly int[][] InvertedResidualSetting =
    {
        new[] { 1, 16, 1, 1 },
        new[] { 6, 24, 2, 2 },
        new[] { 6, 32, 3, 2 },
        new[] { 6, 64, 4, 2 },
        new[] { 6, 96, 3, 1 },
        new[] { 6, 160, 3, 2 },
        new[] { 6, 320, 1, 1 },
    };

    private static readonly (int First, int Last)[] StageFeatures = { (1, 3), (4, 6), (7, 13), (14, 18) };

    /// <summary>The block whose stride the CIFAR variant lowers to 1.</summary>
    private const int CifarStrideOneBlock = 4;

    private readonly Sequential _features;
    private readonly Sequential _classifier;

    public MobileNetV2(string architectureName, ModelConfig config, bool cifar) : base(architectureName, config)
    {
        RequireNoDropPath();
        RejectUnknownOptions("width_mult", "round_nearest");
        double widthMult = config.Option("width_mult", 1.0);
        int roundNearest = config.IntOption("round_nearest", 8);
        if (!(widthMult > 0)) throw new ArgumentException($"{architectureName}: option width_mult must be positive, got {widthMult}.", nameof(config));
        if (roundNearest < 1) throw new ArgumentException($"{architectureName}: option round_nearest must be positive, got {roundNearest}.", nameof(config));
        IsCifar = cifar;

        int stemChannels = MakeDivisible(32 * widthMult, roundNearest);
        int lastChannel = MakeDivisible(1280 * Math.Max(1.0, widthMult), roundNearest);
        int stemStride = cifar ? 1 : 2;
        // features.1…17 as (input channels, output channels, stride, expansion), then each feature's output shape.
        var blocks = new List<(int In, int Out, int Stride, int Expansion)>();
        int channels = stemChannels;
        foreach (var row in InvertedResidualSetting)
        {
            int t = row[0], outputChannel = MakeDivisible(row[1] * widthMult, roundNearest), n = row[2], s = row[3];
            for (int i = 0; i < n; i++)
            {
                bool strideOne = i > 0 || (cifar && blocks.Count + 1 == CifarStrideOneBlock);
                blocks.Add((channels, outputChannel, strideOne ? 1 : s, t));
                channels = outputChannel;
            }
        }
        int side = WindowOutput(config.ImageSize, 3, stemStride, 1);
        var outputs = new List<MapSpec> { new(stemChannels, side, side) };
        foreach (var b in blocks)
        {
            if (b.Stride == 2) side = WindowOutput(side, 3, 2, 1);
            outputs.Add(new MapSpec(b.Out, side, side));
        }
        outputs.Add(new MapSpec(lastChannel, side, side));
        SetFeatureShapes(outputs[0], StageFeatures.Select(r => outputs[r.Last]).ToArray());

        _features = RegisterModule("features", new Sequential());
        _features.Add(ConvBnRelu6(config.InChannels, stemChannels, 3, stemStride));
        foreach (var b in blocks) _features.Add(new InvertedResidual(b.In, b.Out, b.Stride, b.Expansion));
        _features.Add(ConvBnRelu6(channels, lastChannel, 1, 1));
        FeatureDim = lastChannel;
        _classifier = RegisterModule("classifier", new Sequential(new Dropout(config.DropRate), new Linear(lastChannel, config.NumClasses)));

        foreach (var module in Modules())
        {
            if (module is Conv2d conv) KaimingNormalFanOut(conv);
            else if (module is Linear linear)
            {
                Init.Normal_(linear.Weight, 0, 0.01);
                if (linear.Bias is not null) Init.Zeros_(linear.Bias);
            }
        }
    }

    /// <summary>Whether this is the stride-8 CIFAR variant.</summary>
    public bool IsCifar { get; }

    public override int FeatureDim { get; }

    /// <summary>torchvision's _make_divisible: the nearest multiple of <paramref name="divisor"/> (at least divisor), bumped up when that loses more than 10%.</summary>
    public static int MakeDivisible(double value, int divisor)
    {
        int rounded = Math.Max(divisor, (int)(value + divisor / 2.0) / divisor * divisor);
        return rounded < 0.9 * value ? rounded + divisor : rounded;
    }

    public override Tensor Stem(Tensor images)
    {
        CheckImages(images);
        return BlockScope.Run(_features[0], images);
    }

    public override Tensor Stage(int stage, Tensor input)
    {
        CheckStage(stage);
        var (first, last) = StageFeatures[stage];
        var x = input;
        for (int i = first; i <= last; i++) x = BlockScope.Run(_features[i], x);
        return x;
    }

    public override Tensor Head(Tensor lastFeature) => _classifier.Forward(F.AdaptiveAvgPool2d(lastFeature, 1).Flatten(1));

    /// <summary>torchvision's Conv2dNormActivation with ReLU6: a bias-free "same" convolution, BN, ReLU6.</summary>
    internal static Sequential ConvBnRelu6(int inChannels, int outChannels, int kernel, int stride, int groups = 1)
        => new(new Conv2d(inChannels, outChannels, kernel, stride, padding: (kernel - 1) / 2, groups: groups, bias: false), new BatchNorm2d(outChannels), new ReLU6());
}

/// <summary>
/// torchvision's InvertedResidual: a 1×1 expansion (skipped when the ratio is 1), a 3×3 depthwise
/// convolution carrying the stride, and a linear 1×1 projection, all under "conv"; the input is
/// added back when the shape is unchanged.
/// </summary>
public sealed class InvertedResidual : Module<Tensor, Tensor>
{
    private readonly Sequential _conv;

    public InvertedResidual(int inp, int oup, int stride, int expandRatio)
    {
        if (stride is not (1 or 2)) throw new ArgumentException($"InvertedResidual: stride must be 1 or 2, got {stride}.", nameof(stride));
        int hidden = inp * expandRatio;
        UsesResidual = stride == 1 && inp == oup;
        _conv = new Sequential();
        if (expandRatio != 1) _conv.Add(MobileNetV2.ConvBnRelu6(inp, hidden, 1, 1));
        _conv.Add(MobileNetV2.ConvBnRelu6(hidden, hidden, 3, stride, groups: hidden));
        _conv.Add(new Conv2d(hidden, oup, 1, bias: false));
        _conv.Add(new BatchNorm2d(oup));
        RegisterModule("conv", _conv);
    }

    public bool UsesResidual { get; }

    public override Tensor Forward(Tensor x)
    {
        if (!UsesResidual) return _conv.Forward(x);
        var projected = _conv.Forward(x);
        var sum = x + projected;
        // The projection's batch norm output is read by no backward once added (batch norm reads its input).
        Intermediates.Release(projected);
        return sum;
    }
}
