using CrossDistill.Engine;
using CrossDistill.Engine.Nn;
using CrossDistill.Models.Transformers;

namespace CrossDistill.Models.Mlp;

/// <summary>
/// What MLP-Mixer and ResMLP share (both are timm's MlpMixer class): a patch-embedding convolution
/// (stem.proj) giving tokens (N, patches, D), a stack of blocks cut into 4 stages as
/// <see cref="StageLayout.BlockEnds"/> (block outputs 1, 3, 9, 11 for 12 blocks), a final norm, the
/// mean over tokens and a linear head. timm gives every block the same drop-path rate here (unlike
/// its ViT and Swin), and so do these models.
/// </summary>
public abstract class PatchMlpModel : VisionModel
{
    private readonly string _name;
    private readonly Module<Tensor, Tensor>[] _blocks;
    private readonly int[] _stageEnds;
    private readonly TokenSpec _tokens;

    public Conv2d PatchEmbed { get; }
    public IReadOnlyList<Module<Tensor, Tensor>> Blocks => _blocks;
    public Module<Tensor, Tensor> Norm { get; }
    public Linear Classifier { get; }
    public int EmbedDim { get; }
    public int GridSize { get; }

    /// <param name="createBlock">Builds block i for (dim, tokens).</param>
    /// <param name="createNorm">Builds the final norm for dim.</param>
    protected PatchMlpModel(string name, ModelConfig config, int patchSize, int embedDim, int depth,
        Func<int, int, int, Module<Tensor, Tensor>> createBlock, Func<int, Module<Tensor, Tensor>> createNorm) : base(config)
    {
        _name = name;
        ModelChecks.Config(name, config);
        ModelChecks.Positive(name, "patch_size", patchSize);
        ModelChecks.Positive(name, "embed_dim", embedDim);
        if (config.ImageSize < patchSize)
            throw new ArgumentException($"{name}: image size {config.ImageSize} is smaller than the patch size {patchSize}.");
        _stageEnds = StageLayout.BlockEnds(depth);
        EmbedDim = embedDim;
        GridSize = config.ImageSize / patchSize;
        _tokens = new TokenSpec(GridSize * GridSize, embedDim);

        PatchEmbed = new Conv2d(config.InChannels, embedDim, patchSize, stride: patchSize);
        RegisterModule("stem", new ModuleGroup()).Add("proj", PatchEmbed);
        _blocks = Enumerable.Range(0, depth).Select(i => createBlock(i, embedDim, _tokens.Tokens)).ToArray();
        RegisterModule("blocks", new ModuleList<Module<Tensor, Tensor>>(_blocks));
        Norm = RegisterModule("norm", createNorm(embedDim));
        Classifier = RegisterModule("head", new Linear(embedDim, config.NumClasses));
        InitTimm();
    }

    /// <summary>
    /// timm's mixer init: LeCun-normal stem, Xavier-uniform linears with N(0, 1e-6) biases inside MLPs
    /// and zero biases elsewhere, a zero head.
    /// </summary>
    private void InitTimm()
    {
        var (fanIn, _) = Init.CalculateFanInAndFanOut(PatchEmbed.Weight);
        double std = Math.Sqrt(1.0 / fanIn) / .87962566103423978;
        Init.TruncNormal_(PatchEmbed.Weight, std: std, a: -2 * std, b: 2 * std);
        Init.Zeros_(PatchEmbed.Bias!);
        foreach (var (name, module) in NamedModules())
        {
            if (module is not Linear linear) continue;
            if (ReferenceEquals(linear, Classifier))
            {
                Init.Zeros_(linear.Weight);
                Init.Zeros_(linear.Bias!);
                continue;
            }
            Init.XavierUniform_(linear.Weight);
            if (linear.Bias is null) continue;
            if (name.Contains("mlp", StringComparison.Ordinal)) Init.Normal_(linear.Bias, std: 1e-6);
            else Init.Zeros_(linear.Bias);
        }
    }

    public override string ArchitectureName => _name;
    public override bool IsTokenModel => true;
    public override int FeatureDim => EmbedDim;
    public override FeatureSpec[] StageOutputSpecs => new FeatureSpec[] { _tokens, _tokens, _tokens, _tokens };
    public override FeatureSpec[] StageInputSpecs => StageOutputSpecs;

    public override Tensor Stem(Tensor images)
    {
        ModelChecks.Images(_name, Config, images);
        return ModelChecks.MapToTokens(PatchEmbed.Forward(images));
    }

    public override Tensor Stage(int stage, Tensor input)
    {
        ModelChecks.Stage(_name, stage);
        ModelChecks.Tokens(_name, $"the input of stage {stage}", _tokens, input);
        var x = input;
        for (int b = stage == 0 ? 0 : _stageEnds[stage - 1]; b < _stageEnds[stage]; b++) x = _blocks[b].Forward(x);
        return x;
    }

    /// <summary>Final norm, the mean over tokens, the classifier.</summary>
    public override Tensor Head(Tensor lastFeature)
    {
        ModelChecks.Tokens(_name, "the last feature", _tokens, lastFeature);
        return Classifier.Forward(Norm.Forward(lastFeature).Mean(1));
    }
}
