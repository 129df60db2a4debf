using CrossDistill.Engine;
using CrossDistill.Engine.Nn;

namespace CrossDistill.Models.Cnn;

/// <summary>
/// What the convolutional networks of the zoo share: map features, stage shapes worked out once
/// from the architecture's size arithmetic for the config's image size, the torchvision
/// initialisers and the checks of the config and of the images.
/// </summary>
public abstract class CnnModel : VisionModel
{
    private readonly string _architectureName;
    private MapSpec _stemOutput = new(0, 0, 0);
    private MapSpec[] _stageOutputs = Array.Empty<MapSpec>();

    protected CnnModel(string architectureName, ModelConfig config) : base(config)
    {
        ArgumentNullException.ThrowIfNull(config);
        _architectureName = architectureName;
        if (config.NumClasses < 1) throw new ArgumentException($"{architectureName}: NumClasses must be positive, got {config.NumClasses}.", nameof(config));
        if (config.InChannels < 1) throw new ArgumentException($"{architectureName}: InChannels must be positive, got {config.InChannels}.", nameof(config));
        if (config.ImageSize < 1) throw new ArgumentException($"{architectureName}: ImageSize must be positive, got {config.ImageSize}.", nameof(config));
        if (!(config.DropRate >= 0 && config.DropRate < 1)) throw new ArgumentException($"{architectureName}: DropRate must be in [0, 1), got {config.DropRate}.", nameof(config));
        if (!(config.DropPathRate >= 0 && config.DropPathRate < 1)) throw new ArgumentException($"{architectureName}: DropPathRate must be in [0, 1), got {config.DropPathRate}.", nameof(config));
    }

    public override string ArchitectureName => _architectureName;

    public override bool IsTokenModel => false;

    public override FeatureSpec[] StageOutputSpecs => _stageOutputs.ToArray<FeatureSpec>();

    /// <summary>Stage i's input is stage i-1's feature (the stem output for stage 0): CNN stages start with their own downsampling.</summary>
    public override FeatureSpec[] StageInputSpecs => new FeatureSpec[] { _stemOutput, _stageOutputs[0], _stageOutputs[1], _stageOutputs[2] };

    /// <summary>The stem's output shape for the config's image size.</summary>
    public MapSpec StemOutputSpec => _stemOutput;

    /// <summary>Records the shapes the derived constructor computed, refusing images too small for the network.</summary>
    protected void SetFeatureShapes(MapSpec stemOutput, params MapSpec[] stageOutputs)
    {
        if (stageOutputs.Length != 4) throw new InvalidOperationException($"{_architectureName}: expected 4 stage shapes, got {stageOutputs.Length}.");
        foreach (var spec in stageOutputs.Prepend(stemOutput))
            if (spec.Height < 1 || spec.Width < 1)
                throw new ArgumentException($"{_architectureName}: an image size of {Config.ImageSize} is too small; it shrinks to {spec} inside the network.");
        _stemOutput = stemOutput;
        _stageOutputs = stageOutputs;
    }

    /// <summary>The output side of a convolution or pooling window (PyTorch's floor rule; 0 when the window does not fit).</summary>
    protected static int WindowOutput(int size, int kernel, int stride, int padding = 0)
    {
        int span = size + 2 * padding - kernel;
        return span < 0 ? 0 : span / stride + 1;
    }

    /// <summary>Fails with a message naming the model when <paramref name="images"/> is not (N, InChannels, H, W).</summary>
    protected void CheckImages(Tensor images)
    {
        ArgumentNullException.ThrowIfNull(images);
        if (images.Rank != 4 || images.Shape[1] != Config.InChannels)
            throw new ArgumentException($"{_architectureName}: expected images of shape (N, {Config.InChannels}, H, W), got {ShapeUtil.Format(images.Shape)}.", nameof(images));
    }

    protected void CheckStage(int stage)
    {
        if (stage is < 0 or > 3) throw new ArgumentOutOfRangeException(nameof(stage), $"{_architectureName}: stage must be 0…3, got {stage}.");
    }

    /// <summary>Refuses options this architecture does not have (a misspelt option would otherwise be silently ignored).</summary>
    protected void RejectUnknownOptions(params string[] known)
    {
        var unknown = Config.Options.Keys.Where(k => !known.Contains(k, StringComparer.Ordinal)).Order(StringComparer.Ordinal).ToList();
        if (unknown.Count > 0)
            throw new ArgumentException($"{_architectureName}: unknown option{(unknown.Count > 1 ? "s" : "")} {string.Join(", ", unknown)}; its options are {string.Join(", ", known)}.");
    }

    /// <summary>Refuses a drop-path rate for networks that have no stochastic depth, rather than ignoring it.</summary>
    protected void RequireNoDropPath()
    {
        if (Config.DropPathRate != 0)
            throw new ArgumentException($"{_architectureName} has no stochastic depth; DropPathRate must be 0, got {Config.DropPathRate}.");
    }

    /// <summary>torchvision's ResNet/MobileNetV2 convolution init: kaiming_normal_(mode="fan_out", nonlinearity="relu"), zero bias.</summary>
    protected static void KaimingNormalFanOut(Conv2d conv)
    {
        Init.KaimingNormal_(conv.Weight, mode: FanMode.FanOut, nonlinearity: Nonlinearity.Relu);
        if (conv.Bias is not null) Init.Zeros_(conv.Bias);
    }
}

/// <summary>
/// Runs one block of a network so that, when nothing is recorded for autograd, the block's
/// intermediate tensors are freed as soon as it returns: an inference pass (a frozen teacher,
/// evaluation) then holds about one block's temporaries at a time instead of the whole network's
/// until the caller's disposal scope closes. With autograd on, the graph needs them, so the block
/// simply runs.
/// </summary>
internal static class BlockScope
{
    public static Tensor Run(Module<Tensor, Tensor> block, Tensor input) => Run(() => block.Forward(input), input);

    /// <summary>Runs <paramref name="compute"/> as a block; <paramref name="input"/> (which it may return unchanged) stays where it is.</summary>
    public static Tensor Run(Func<Tensor> compute, Tensor input)
    {
        if (GradMode.IsEnabled) return compute();
        using var scope = DisposeScope.Enter();
        var output = compute();
        if (!ReferenceEquals(output, input)) output.MoveToOuterScope();
        return output;
    }

    /// <summary>Runs every module of <paramref name="blocks"/> in turn, each as a block.</summary>
    public static Tensor RunAll(IEnumerable<Module<Tensor, Tensor>> blocks, Tensor input)
    {
        var x = input;
        foreach (var block in blocks) x = Run(block, x);
        return x;
    }
}
