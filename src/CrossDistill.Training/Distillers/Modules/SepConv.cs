using CrossDistill.Engine;
using CrossDistill.Engine.Nn;

namespace CrossDistill.Training.Distillers.Modules;

/// <summary>
/// OFA-KD's separable downsampling block: depthwise 3×3 stride 2 → pointwise 1×1 → BN → ReLU →
/// depthwise 3×3 → pointwise 1×1 (to the output width) → BN → ReLU, convolutions without bias.
/// Parameter names follow the official module (op.0 … op.7).
/// </summary>
public sealed class SepConv : Module<Tensor, Tensor>
{
    private readonly Sequential _op;

    public SepConv(int inChannels, int outChannels, int kernelSize = 3, int stride = 2, int padding = 1)
    {
        InChannels = inChannels;
        OutChannels = outChannels;
        _op = RegisterModule("op", new Sequential(
            new Conv2d(inChannels, inChannels, kernelSize, stride, padding, groups: inChannels, bias: false),
            new Conv2d(inChannels, inChannels, 1, bias: false),
            new BatchNorm2d(inChannels),
            new ReLU(),
            new Conv2d(inChannels, inChannels, kernelSize, 1, padding, groups: inChannels, bias: false),
            new Conv2d(inChannels, outChannels, 1, bias: false),
            new BatchNorm2d(outChannels),
            new ReLU()));
    }

    public int InChannels { get; }
    public int OutChannels { get; }

    public override Tensor Forward(Tensor x) => _op.Forward(x);
}
