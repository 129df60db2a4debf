using CrossDistill.Engine.Nn;
using CrossDistill.Models;
using CrossDistill.Models.Transformers;
using CrossDistill.Training.Distillers.PatModules;

namespace CrossDistill.Training.Tests.Pat;

/// <summary>
/// A ResNet-like stage-wise CNN: stem conv3×3-BN-ReLU, then one conv3×3-BN-ReLU per stage. The same
/// model (and parameter names) as TinyCnn in tools/fixtures/gen_pat.py.
/// </summary>
internal sealed class TinyCnn : VisionModel
{
    private readonly Sequential _stem;
    private readonly ModuleList<Sequential> _stages;
    private readonly Linear _fc;

    public TinyCnn(int stem, int[] widths, int[] strides, int classes = 5, int image = 16) : base(new ModelConfig { NumClasses = classes, ImageSize = image })
    {
        _stem = RegisterModule("stem", new Sequential(new Conv2d(3, stem, 3, padding: 1, bias: false), new BatchNorm2d(stem), new ReLU()));
        var inputs = new[] { stem }.Concat(widths[..^1]).ToArray();
        _stages = RegisterModule("stages", new ModuleList<Sequential>(Enumerable.Range(0, 4).Select(i =>
            new Sequential(new Conv2d(inputs[i], widths[i], 3, stride: strides[i], padding: 1, bias: false), new BatchNorm2d(widths[i]), new ReLU()))));
        _fc = RegisterModule("fc", new Linear(widths[^1], classes));
        var ins = new FeatureSpec[4];
        var outs = new FeatureSpec[4];
        int size = image;
        for (int i = 0; i < 4; i++)
        {
            ins[i] = new MapSpec(inputs[i], size, size);
            size = (size - 1) / strides[i] + 1;
            outs[i] = new MapSpec(widths[i], size, size);
        }
        (StageInputSpecs, StageOutputSpecs, FeatureDim) = (ins, outs, widths[^1]);
    }

    public override string ArchitectureName => "tiny_cnn";
    public override bool IsTokenModel => false;
    public override int FeatureDim { get; }
    public override FeatureSpec[] StageOutputSpecs { get; }
    public override FeatureSpec[] StageInputSpecs { get; }
    public override Tensor Stem(Tensor images) => _stem.Forward(images);
    public override Tensor Stage(int stage, Tensor input) => _stages[stage].Forward(input);
    public override Tensor Head(Tensor lastFeature) => _fc.Forward(lastFeature.Mean(new[] { 2, 3 }));
}

/// <summary>A ViT: 4×4 patches, a class token at index 0, learned positions, one pre-norm block per stage.</summary>
internal sealed class TinyVit : VisionModel
{
    private readonly Conv2d _patchEmbed;
    private readonly Tensor _clsToken;
    private readonly Tensor _posEmbed;
    private readonly ModuleList<EncoderBlock> _blocks;
    private readonly LayerNorm _norm;
    private readonly Linear _head;
    private readonly int _dim;

    public TinyVit(int dim, int heads, int classes = 5, int image = 16, int patch = 4) : base(new ModelConfig { NumClasses = classes, ImageSize = image })
    {
        _dim = dim;
        int patches = (image / patch) * (image / patch);
        _patchEmbed = RegisterModule("patch_embed", new Conv2d(3, dim, patch, stride: patch));
        _clsToken = RegisterParameter("cls_token", Torch.Randn(new[] { 1, 1, dim }) * 0.5f);
        _posEmbed = RegisterParameter("pos_embed", Torch.Randn(new[] { 1, patches + 1, dim }) * 0.1f);
        _blocks = RegisterModule("blocks", new ModuleList<EncoderBlock>(Enumerable.Range(0, 4).Select(_ => new EncoderBlock(dim, heads, 2 * dim, 0f, 0f, WeightNaming.Timm, layerNormEps: 1e-5f))));
        _norm = RegisterModule("norm", new LayerNorm(dim));
        _head = RegisterModule("head", new Linear(dim, classes));
        var spec = new TokenSpec(patches + 1, dim, 1);
        StageInputSpecs = StageOutputSpecs = new FeatureSpec[] { spec, spec, spec, spec };
    }

    public override string ArchitectureName => "tiny_vit";
    public override bool IsTokenModel => true;
    public override int FeatureDim => _dim;
    public override FeatureSpec[] StageOutputSpecs { get; }
    public override FeatureSpec[] StageInputSpecs { get; }

    public override Tensor Stem(Tensor images)
    {
        var tokens = PatFeatures.MapToTokens(_patchEmbed.Forward(images));
        var cls = _clsToken.Expand(images.Shape[0], 1, _dim);
        return Torch.Cat(new[] { cls, tokens }, 1) + _posEmbed;
    }

    public override Tensor Stage(int stage, Tensor input) => _blocks[stage].Forward(input);
    public override Tensor Head(Tensor lastFeature) => _head.Forward(_norm.Forward(lastFeature).Select(1, 0));
}

/// <summary>
/// A Swin-like token model without class tokens: (image/2)² tokens of width dim after a 2×2 patch
/// embedding, patch merging (2×2 neighbours → LayerNorm → Linear 4C→2C) between stages and a
/// residual token MLP per stage. By default the merging is the next stage's input transition, so
/// stage i's input and output are both (L_i, C_i), as Swin's features are taken before merging;
/// with <c>mergeAtStageEnd</c> stages 1-3 end with the merge, so their outputs and inputs differ
/// (what makes PAT's feedback aligners token projectors).
/// </summary>
internal sealed class TinySwin : VisionModel
{
    private readonly Conv2d _patchEmbed;
    private readonly ModuleList<Module<Tensor, Tensor>> _merges;
    private readonly ModuleList<FeedForward> _stages;
    private readonly Linear _head;
    private readonly int[] _sides;
    private readonly int[] _dims;
    private readonly bool _mergeAtStageEnd;

    public TinySwin(int dim, int classes = 5, int image = 32, bool mergeAtStageEnd = false) : base(new ModelConfig { NumClasses = classes, ImageSize = image })
    {
        _mergeAtStageEnd = mergeAtStageEnd;
        _sides = Enumerable.Range(0, 4).Select(i => image / 2 >> i).ToArray();
        _dims = Enumerable.Range(0, 4).Select(i => dim << i).ToArray();
        _patchEmbed = RegisterModule("patch_embed", new Conv2d(3, dim, 2, stride: 2));
        _merges = RegisterModule("merges", new ModuleList<Module<Tensor, Tensor>>(Enumerable.Range(1, 3).Select(i => (Module<Tensor, Tensor>)new Sequential(
            new LayerNorm(4 * _dims[i - 1]), new Linear(4 * _dims[i - 1], _dims[i], bias: false)))));
        _stages = RegisterModule("stages", new ModuleList<FeedForward>(_dims.Select(d => new FeedForward(d, 2 * d, 0f, WeightNaming.Timm))));
        _head = RegisterModule("head", new Linear(_dims[^1], classes));
        FeatureSpec Tokens(int i) => new TokenSpec(_sides[i] * _sides[i], _dims[i]);
        StageInputSpecs = Enumerable.Range(0, 4).Select(Tokens).ToArray();
        StageOutputSpecs = Enumerable.Range(0, 4).Select(i => Tokens(mergeAtStageEnd ? Math.Min(i + 1, 3) : i)).ToArray();
    }

    public override string ArchitectureName => "tiny_swin";
    public override bool IsTokenModel => true;
    public override int FeatureDim => _dims[^1];
    public override FeatureSpec[] StageOutputSpecs { get; }
    public override FeatureSpec[] StageInputSpecs { get; }
    public override Tensor Stem(Tensor images) => PatFeatures.MapToTokens(_patchEmbed.Forward(images));

    public override Tensor StageInput(int stage, Tensor previous) => stage == 0 || _mergeAtStageEnd ? previous : Merge(stage - 1, previous);

    public override Tensor Stage(int stage, Tensor input)
    {
        var x = input + _stages[stage].Forward(input);
        return _mergeAtStageEnd && stage < 3 ? Merge(stage, x) : x;
    }

    public override Tensor Head(Tensor lastFeature) => _head.Forward(lastFeature.Mean(1));

    /// <summary>Swin's patch merging of level <paramref name="level"/>'s tokens into level + 1.</summary>
    private Tensor Merge(int level, Tensor tokens)
    {
        int b = tokens.Shape[0], side = _sides[level], c = _dims[level];
        var neighbours = tokens.Reshape(b, side / 2, 2, side / 2, 2, c).Permute(0, 1, 3, 4, 2, 5).Reshape(b, side * side / 4, 4 * c);
        return _merges[level].Forward(neighbours);
    }
}
