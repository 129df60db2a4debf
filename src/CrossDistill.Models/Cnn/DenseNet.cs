using System.Globalization;
using CrossDistill.Engine;
using CrossDistill.Engine.Nn;

namespace CrossDistill.Models.Cnn;

/// <summary>
/// DenseNet-BC as torchvision.models.DenseNet, with its state-dict names (features.conv0/norm0,
/// features.denseblock1.denselayer1.norm1/conv1/norm2/conv2, features.transition1.norm/conv,
/// features.norm5, classifier). Options as torchvision's arguments: "growth_rate" (32),
/// "num_init_features" (64) and "bn_size" (4, the bottleneck width in growth rates);
/// <see cref="ModelConfig.DropRate"/> is torchvision's drop_rate, dropout on each dense layer's new
/// features. Stage 1 is denseblock1; stage i &gt; 1 is transition i-1 (BN, ReLU, 1×1 conv halving
/// the channels, 2×2 average pool) then denseblock i; the stem is conv0, norm0, ReLU and the max
/// pool; the head is norm5, ReLU, global average pooling and the classifier.
/// </summary>
public sealed class DenseNet : CnnModel
{
    private readonly Sequential _features;
    private readonly Module<Tensor, Tensor>[] _stem;
    private readonly DenseBlock[] _blocks = new DenseBlock[4];
    private readonly Sequential[] _transitions = new Sequential[3];
    private readonly BatchNorm2d _norm5;
    private readonly Linear _classifier;

    public DenseNet(string architectureName, ModelConfig config, int[] blockConfig) : base(architectureName, config)
    {
        ArgumentNullException.ThrowIfNull(blockConfig);
        if (blockConfig.Length != 4 || blockConfig.Any(n => n < 1))
            throw new ArgumentException($"{architectureName}: block_config must be 4 positive layer counts, got [{string.Join(", ", blockConfig)}].", nameof(blockConfig));
        RequireNoDropPath();
        RejectUnknownOptions("growth_rate", "num_init_features", "bn_size");
        int growthRate = config.IntOption("growth_rate", 32);
        int numInitFeatures = config.IntOption("num_init_features", 64);
        int bnSize = config.IntOption("bn_size", 4);
        foreach (var (option, value) in new[] { ("growth_rate", growthRate), ("num_init_features", numInitFeatures), ("bn_size", bnSize) })
            if (value < 1) throw new ArgumentException($"{architectureName}: option {option} must be positive, got {value}.", nameof(config));

        int side = WindowOutput(WindowOutput(config.ImageSize, 7, 2, 3), 3, 2, 1);
        var stages = new MapSpec[4];
        int channels = numInitFeatures;
        for (int i = 0; i < 4; i++)
        {
            if (i > 0)
            {
                channels /= 2;
                side = WindowOutput(side, 2, 2);
            }
            channels += blockConfig[i] * growthRate;
            stages[i] = new MapSpec(channels, side, side);
        }
        SetFeatureShapes(new MapSpec(numInitFeatures, stages[0].Height, stages[0].Width), stages);

        _features = RegisterModule("features", new Sequential());
        _stem = new Module<Tensor, Tensor>[]
        {
            new Conv2d(config.InChannels, numInitFeatures, 7, stride: 2, padding: 3, bias: false),
            new BatchNorm2d(numInitFeatures),
            new ReLU(),
            new MaxPool2d(3, stride: 2, padding: 1),
        };
        string[] stemNames = { "conv0", "norm0", "relu0", "pool0" };
        for (int i = 0; i < _stem.Length; i++) _features.Add(stemNames[i], _stem[i]);

        channels = numInitFeatures;
        for (int i = 0; i < 4; i++)
        {
            if (i > 0)
            {
                _transitions[i - 1] = Transition(channels, channels / 2);
                _features.Add($"transition{i}", _transitions[i - 1]);
                channels /= 2;
            }
            _blocks[i] = new DenseBlock(blockConfig[i], channels, bnSize, growthRate, config.DropRate);
            _features.Add($"denseblock{i + 1}", _blocks[i]);
            channels += blockConfig[i] * growthRate;
        }
        _norm5 = new BatchNorm2d(channels);
        _features.Add("norm5", _norm5);
        FeatureDim = channels;
        _classifier = RegisterModule("classifier", new Linear(channels, config.NumClasses));

        foreach (var module in Modules())
        {
            if (module is Conv2d conv) Init.KaimingNormal_(conv.Weight);
            else if (module is Linear linear && linear.Bias is not null) Init.Zeros_(linear.Bias);
        }
    }

    public override int FeatureDim { get; }

    public override Tensor Stem(Tensor images)
    {
        CheckImages(images);
        return BlockScope.Run(() =>
        {
            var x = images;
            foreach (var layer in _stem) x = layer.Forward(x);
            return x;
        }, images);
    }

    public override Tensor Stage(int stage, Tensor input)
    {
        CheckStage(stage);
        var x = stage == 0 ? input : BlockScope.Run(_transitions[stage - 1], input);
        return _blocks[stage].Forward(x);
    }

    public override Tensor Head(Tensor lastFeature)
        => _classifier.Forward(F.AdaptiveAvgPool2d(F.Relu(_norm5.Forward(lastFeature)), 1).Flatten(1));

    private static Sequential Transition(int inChannels, int outChannels) => new(
        ("norm", new BatchNorm2d(inChannels)),
        ("relu", new ReLU()),
        ("conv", new Conv2d(inChannels, outChannels, 1, bias: false)),
        ("pool", new AvgPool2d(2, stride: 2)));
}

/// <summary>torchvision's _DenseBlock: each dense layer sees the concatenation of the block input and every earlier layer's output.</summary>
public sealed class DenseBlock : Module<Tensor, Tensor>
{
    private readonly DenseLayer[] _layers;

    public DenseBlock(int numLayers, int inChannels, int bnSize, int growthRate, float dropRate)
    {
        _layers = new DenseLayer[numLayers];
        for (int i = 0; i < numLayers; i++)
            _layers[i] = RegisterModule("denselayer" + (i + 1).ToString(CultureInfo.InvariantCulture), new DenseLayer(inChannels + i * growthRate, growthRate, bnSize, dropRate));
    }

    public override Tensor Forward(Tensor x)
    {
        var features = new List<Tensor>(_layers.Length + 1) { x };
        foreach (var layer in _layers)
            features.Add(BlockScope.Run(() => layer.Forward(features.Count == 1 ? x : Torch.Cat(features.ToArray(), 1)), x));
        return Torch.Cat(features.ToArray(), 1);
    }
}

/// <summary>torchvision's _DenseLayer: BN, ReLU, 1×1 conv to bn_size·growth_rate channels, BN, ReLU, 3×3 conv to growth_rate channels, dropout.</summary>
public sealed class DenseLayer : Module<Tensor, Tensor>
{
    private readonly BatchNorm2d _norm1, _norm2;
    private readonly Conv2d _conv1, _conv2;
    private readonly float _dropRate;

    public DenseLayer(int inChannels, int growthRate, int bnSize, float dropRate)
    {
        _norm1 = RegisterModule("norm1", new BatchNorm2d(inChannels));
        _conv1 = RegisterModule("conv1", new Conv2d(inChannels, bnSize * growthRate, 1, bias: false));
        _norm2 = RegisterModule("norm2", new BatchNorm2d(bnSize * growthRate));
        _conv2 = RegisterModule("conv2", new Conv2d(bnSize * growthRate, growthRate, 3, padding: 1, bias: false));
        _dropRate = dropRate;
    }

    public override Tensor Forward(Tensor x)
    {
        var bottleneck = _conv1.Forward(F.Relu(_norm1.Forward(x)));
        var y = _conv2.Forward(F.Relu(_norm2.Forward(bottleneck)));
        return F.Dropout(y, _dropRate, Training);
    }
}
