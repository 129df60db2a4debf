using CrossDistill.Engine;
using CrossDistill.Engine.Nn;

namespace CrossDistill.Models.Cnn;

/// <summary>The residual block a ResNet is built from.</summary>
public enum ResNetBlock
{
    /// <summary>Two 3×3 convolutions (ResNet-18/34), expansion 1.</summary>
    Basic,

    /// <summary>1×1 reduce, 3×3 (strided), 1×1 expand (ResNet-50 and deeper), expansion 4.</summary>
    Bottleneck,
}

/// <summary>
/// ResNet as torchvision.models.ResNet, with its state-dict names (conv1, bn1, layer1.0.conv1,
/// layer2.0.downsample.0/1, fc). The ImageNet stem is a 7×7/2 convolution and a 3×3/2 max pool;
/// the CIFAR stem (<c>cifarStem</c>) is a 3×3/1 convolution with no pooling, as the CIFAR ResNets
/// of the distillation literature. Option "width" (default 64) is the stem's and layer1's width;
/// layers 2–4 double it in turn (torchvision's 64, 128, 256, 512). Stages are layer1…layer4;
/// the head is global average pooling, then (when <see cref="ModelConfig.DropRate"/> &gt; 0, as
/// timm's drop_rate; torchvision has none) dropout, then fc.
/// </summary>
public sealed class ResNet : CnnModel
{
    private readonly Conv2d _conv1;
    private readonly BatchNorm2d _bn1;
    private readonly bool _cifarStem;
    private readonly Sequential[] _layers = new Sequential[4];
    private readonly Linear _fc;

    public ResNet(string architectureName, ModelConfig config, ResNetBlock block, int[] layers, bool cifarStem) : base(architectureName, config)
    {
        ArgumentNullException.ThrowIfNull(layers);
        if (layers.Length != 4 || layers.Any(n => n < 1))
            throw new ArgumentException($"{architectureName}: layers must be 4 positive block counts, got [{string.Join(", ", layers)}].", nameof(layers));
        RequireNoDropPath();
        RejectUnknownOptions("width");
        int width = config.IntOption("width", 64);
        if (width < 1) throw new ArgumentException($"{architectureName}: option width must be positive, got {width}.", nameof(config));
        Block = block;
        _cifarStem = cifarStem;
        int expansion = block == ResNetBlock.Basic ? BasicBlock.Expansion : Bottleneck.Expansion;

        int side = cifarStem ? config.ImageSize : WindowOutput(WindowOutput(config.ImageSize, 7, 2, 3), 3, 2, 1);
        var stem = new MapSpec(width, side, side);
        var stages = new MapSpec[4];
        for (int i = 0; i < 4; i++)
        {
            if (i > 0) side = WindowOutput(side, 3, 2, 1);
            stages[i] = new MapSpec((width << i) * expansion, side, side);
        }
        SetFeatureShapes(stem, stages);

        _conv1 = RegisterModule("conv1", cifarStem
            ? new Conv2d(config.InChannels, width, 3, stride: 1, padding: 1, bias: false)
            : new Conv2d(config.InChannels, width, 7, stride: 2, padding: 3, bias: false));
        _bn1 = RegisterModule("bn1", new BatchNorm2d(width));

        int inplanes = width;
        for (int i = 0; i < 4; i++)
        {
            int planes = width << i, stride = i == 0 ? 1 : 2;
            var layer = new Sequential();
            for (int b = 0; b < layers[i]; b++)
            {
                layer.Add(block == ResNetBlock.Basic
                    ? new BasicBlock(inplanes, planes, b == 0 ? stride : 1)
                    : new Bottleneck(inplanes, planes, b == 0 ? stride : 1));
                inplanes = planes * expansion;
            }
            _layers[i] = RegisterModule($"layer{i + 1}", layer);
        }
        FeatureDim = inplanes;
        _fc = RegisterModule("fc", new Linear(inplanes, config.NumClasses));

        foreach (var module in Modules())
            if (module is Conv2d conv) KaimingNormalFanOut(conv);
    }

    public ResNetBlock Block { get; }

    public override int FeatureDim { get; }

    public override Tensor Stem(Tensor images)
    {
        CheckImages(images);
        return BlockScope.Run(() =>
        {
            var normalized = _bn1.Forward(_conv1.Forward(images));
            var x = F.Relu(normalized);
            Intermediates.Release(normalized);
            return _cifarStem ? x : F.MaxPool2d(x, 3, stride: 2, padding: 1);
        }, images);
    }

    public override Tensor Stage(int stage, Tensor input)
    {
        CheckStage(stage);
        return BlockScope.RunAll(_layers[stage], input);
    }

    public override Tensor Head(Tensor lastFeature)
    {
        var pooled = F.AdaptiveAvgPool2d(lastFeature, 1).Flatten(1);
        return _fc.Forward(F.Dropout(pooled, Config.DropRate, Training));
    }
}

/// <summary>torchvision's BasicBlock: conv3×3 (stride), BN, ReLU, conv3×3, BN, plus the (projected) input, ReLU.</summary>
public sealed class BasicBlock : Module<Tensor, Tensor>
{
    public const int Expansion = 1;

    private readonly Conv2d _conv1, _conv2;
    private readonly BatchNorm2d _bn1, _bn2;
    private readonly Sequential? _downsample;

    public BasicBlock(int inplanes, int planes, int stride)
    {
        _conv1 = RegisterModule("conv1", new Conv2d(inplanes, planes, 3, stride, padding: 1, bias: false));
        _bn1 = RegisterModule("bn1", new BatchNorm2d(planes));
        _conv2 = RegisterModule("conv2", new Conv2d(planes, planes, 3, 1, padding: 1, bias: false));
        _bn2 = RegisterModule("bn2", new BatchNorm2d(planes));
        if (stride != 1 || inplanes != planes * Expansion)
            _downsample = RegisterModule("downsample", new Sequential(new Conv2d(inplanes, planes * Expansion, 1, stride, bias: false), new BatchNorm2d(planes * Expansion)));
    }

    public override Tensor Forward(Tensor x)
    {
        // Batch norm's backward reads its input and ReLU's its output, so the normalised values go once consumed.
        var normalized = _bn1.Forward(_conv1.Forward(x));
        var h = F.Relu(normalized);
        Intermediates.Release(normalized);
        return ResidualRelu(_bn2.Forward(_conv2.Forward(h)), _downsample, x);
    }

    /// <summary>
    /// relu(branch + shortcut(x)), the end of both residual blocks; the branch, the shortcut and
    /// their sum are read by no backward (ReLU's reads its output), so they go once consumed.
    /// </summary>
    internal static Tensor ResidualRelu(Tensor branch, Sequential? downsample, Tensor x)
    {
        var shortcut = downsample?.Forward(x);
        var sum = branch + (shortcut ?? x);
        var output = F.Relu(sum);
        Intermediates.Release(branch, shortcut, sum);
        return output;
    }
}

/// <summary>torchvision's Bottleneck (ResNet v1.5: the stride sits on the 3×3 convolution).</summary>
public sealed class Bottleneck : Module<Tensor, Tensor>
{
    public const int Expansion = 4;

    private readonly Conv2d _conv1, _conv2, _conv3;
    private readonly BatchNorm2d _bn1, _bn2, _bn3;
    private readonly Sequential? _downsample;

    public Bottleneck(int inplanes, int planes, int stride)
    {
        _conv1 = RegisterModule("conv1", new Conv2d(inplanes, planes, 1, bias: false));
        _bn1 = RegisterModule("bn1", new BatchNorm2d(planes));
        _conv2 = RegisterModule("conv2", new Conv2d(planes, planes, 3, stride, padding: 1, bias: false));
        _bn2 = RegisterModule("bn2", new BatchNorm2d(planes));
        _conv3 = RegisterModule("conv3", new Conv2d(planes, planes * Expansion, 1, bias: false));
        _bn3 = RegisterModule("bn3", new BatchNorm2d(planes * Expansion));
        if (stride != 1 || inplanes != planes * Expansion)
            _downsample = RegisterModule("downsample", new Sequential(new Conv2d(inplanes, planes * Expansion, 1, stride, bias: false), new BatchNorm2d(planes * Expansion)));
    }

    public override Tensor Forward(Tensor x)
    {
        // As BasicBlock: only batch norms' inputs and ReLUs' outputs are read by backward.
        var normalized1 = _bn1.Forward(_conv1.Forward(x));
        var h = F.Relu(normalized1);
        var normalized2 = _bn2.Forward(_conv2.Forward(h));
        h = F.Relu(normalized2);
        Intermediates.Release(normalized1, normalized2);
        return BasicBlock.ResidualRelu(_bn3.Forward(_conv3.Forward(h)), _downsample, x);
    }
}
