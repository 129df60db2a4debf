using CrossDistill.Engine;
using CrossDistill.Engine.Nn;
using CrossDistill.Models;

namespace CrossDistill.Training.Distillers.Modules;

/// <summary>
/// OFA-KD's branch from a CNN student's stage feature map into logit space. Before the last stage:
/// 4 − stage <see cref="SepConv"/> blocks, each halving the resolution and doubling the channels,
/// the last one widening to <c>dim</c>; at the last stage a 1×1 convolution (with bias) to
/// <c>dim</c>. Then global average pooling and Linear(dim → classes). OFA sets dim to the larger of
/// the student's and the teacher's pre-logit widths.
/// </summary>
public sealed class CnnLogitBranch : Module<Tensor, Tensor>
{
    private readonly ModuleList<SepConv>? _downsample;
    private readonly Conv2d? _proj;
    private readonly Linear _head;

    /// <param name="stage">1-based stage (1 … 4) the feature comes from.</param>
    public CnnLogitBranch(MapSpec feature, int stage, int dim, int numClasses)
    {
        if (stage is < 1 or > 4) throw new ArgumentException($"CnnLogitBranch: stage must be 1 … 4, got {stage}.", nameof(stage));
        if (dim < 1 || numClasses < 1) throw new ArgumentException($"CnnLogitBranch: dim ({dim}) and classes ({numClasses}) must be positive.");
        Feature = feature;
        if (stage < 4)
        {
            int blocks = 4 - stage, inChannels = feature.Channels;
            var list = new List<SepConv>();
            for (int i = 0; i < blocks; i++)
            {
                list.Add(new SepConv(inChannels, i == blocks - 1 ? dim : inChannels * 2));
                inChannels *= 2;
            }
            _downsample = RegisterModule("downsample", new ModuleList<SepConv>(list));
        }
        else
        {
            _proj = RegisterModule("proj", new Conv2d(feature.Channels, dim, 1));
        }
        _head = RegisterModule("head", new Linear(dim, numClasses));
    }

    public MapSpec Feature { get; }

    public override Tensor Forward(Tensor x)
    {
        if (x.Rank != 4 || x.Shape[1] != Feature.Channels)
            throw new ArgumentException($"CnnLogitBranch: expected an (N, {Feature.Channels}, H, W) feature map, got {ShapeUtil.Format(x.Shape)}.", nameof(x));
        if (_downsample is not null)
            foreach (var block in _downsample) x = block.Forward(x);
        else
            x = _proj!.Forward(x);
        return _head.Forward(F.AdaptiveAvgPool2d(x, 1).Flatten(1));
    }
}
