using CrossDistill.Engine.Nn;
using CrossDistill.Models;
using CrossDistill.Models.Transformers;
using CrossDistill.Training.Distillers.Modules;

namespace CrossDistill.Training.Tests.Baselines;

/// <summary>A four-stage CNN on 16×16 images (conv-BN-ReLU stages, stride 2 after the first): map features.</summary>
public sealed class TinyMapNet : VisionModel
{
    private readonly Conv2d _stem;
    private readonly ModuleList<Sequential> _stages;
    private readonly Linear _head;
    private readonly int[] _widths;

    public TinyMapNet(int[] widths, int numClasses = 5) : base(new ModelConfig { NumClasses = numClasses, ImageSize = 16 })
    {
        _widths = widths;
        _stem = RegisterModule("stem", new Conv2d(3, widths[0], 3, 1, 1));
        _stages = RegisterModule("stages", new ModuleList<Sequential>(Enumerable.Range(0, 4).Select(i => new Sequential(
            new Conv2d(i == 0 ? widths[0] : widths[i - 1], widths[i], 3, i == 0 ? 1 : 2, 1, bias: false),
            new BatchNorm2d(widths[i]),
            new ReLU()))));
        _head = RegisterModule("head", new Linear(widths[3], numClasses));
    }

    public override string ArchitectureName => "tiny_map_net";
    public override bool IsTokenModel => false;
    public override int FeatureDim => _widths[3];
    public override FeatureSpec[] StageOutputSpecs => Enumerable.Range(0, 4).Select(i => (FeatureSpec)new MapSpec(_widths[i], 16 >> i, 16 >> i)).ToArray();
    public override FeatureSpec[] StageInputSpecs => Enumerable.Range(0, 4).Select(i => (FeatureSpec)(i == 0 ? new MapSpec(_widths[0], 16, 16) : new MapSpec(_widths[i - 1], 16 >> (i - 1), 16 >> (i - 1)))).ToArray();
    public override Tensor Stem(Tensor images) => _stem.Forward(images);
    public override Tensor Stage(int stage, Tensor input) => _stages[stage].Forward(input);
    public override Tensor Head(Tensor lastFeature) => _head.Forward(F.AdaptiveAvgPool2d(lastFeature, 1).Flatten(1));
}

/// <summary>A four-stage ViT on 16×16 images (patch 4 → a 4×4 grid, a class token, one block per stage): token features.</summary>
public sealed class TinyTokenNet : VisionModel
{
    private readonly Conv2d _patchEmbed;
    private readonly Tensor _clsToken;
    private readonly ModuleList<EncoderBlock> _blocks;
    private readonly LayerNorm _norm;
    private readonly Linear _head;
    private readonly int _dim;

    public TinyTokenNet(int dim, int numClasses = 5) : base(new ModelConfig { NumClasses = numClasses, ImageSize = 16 })
    {
        _dim = dim;
        _patchEmbed = RegisterModule("patch_embed", new Conv2d(3, dim, 4, 4));
        _clsToken = RegisterParameter("cls_token", (Torch.Randn(new[] { 1, 1, dim }) * 0.02f).Detach());
        _blocks = RegisterModule("blocks", new ModuleList<EncoderBlock>(Enumerable.Range(0, 4).Select(_ => new EncoderBlock(dim, 4, 4 * dim, 0f, 0f, WeightNaming.Timm, layerNormEps: 1e-5f, qkvBias: false))));
        _norm = RegisterModule("norm", new LayerNorm(dim));
        _head = RegisterModule("head", new Linear(dim, numClasses));
    }

    public override string ArchitectureName => "tiny_token_net";
    public override bool IsTokenModel => true;
    public override int FeatureDim => _dim;
    public override FeatureSpec[] StageOutputSpecs => Enumerable.Repeat((FeatureSpec)new TokenSpec(17, _dim, 1), 4).ToArray();
    public override FeatureSpec[] StageInputSpecs => StageOutputSpecs;

    public override Tensor Stem(Tensor images)
    {
        var patches = HintAligner.MapToTokens(_patchEmbed.Forward(images));
        return Torch.Cat(new[] { _clsToken.Expand(images.Shape[0], 1, _dim), patches }, 1);
    }

    public override Tensor Stage(int stage, Tensor input) => _blocks[stage].Forward(input);
    public override Tensor Head(Tensor lastFeature) => _head.Forward(_norm.Forward(lastFeature).Select(1, 0));
}
