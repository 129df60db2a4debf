using CrossDistill.Engine;
using CrossDistill.Engine.Nn;

namespace CrossDistill.Training.Distillers.PatModules;

/// <summary>
/// Projects a feature onto a feature-map shape (C_out, H, W), as the official CNN projectors:
/// nearest resize to (H, W) → BatchNorm2d(C_in) → 1×1 convolution C_in→C_out without bias.
/// Accepts maps (B, C_in, h, w) or square row-major tokens (B, h², C_in), which are laid out as a
/// map first (RAA's (B, N_q/4, d) output, a ViT student's patch tokens).
/// </summary>
public sealed class MapAligner : Module<Tensor, Tensor>
{
    public MapAligner(int inChannels, int outChannels, int height, int width)
    {
        if (inChannels < 1 || outChannels < 1 || height < 1 || width < 1)
            throw new ArgumentException($"MapAligner: channels and sizes must be positive, got in {inChannels}, out {outChannels}, size {height}×{width}.");
        (InChannels, OutChannels, Height, Width) = (inChannels, outChannels, height, width);
        Norm = RegisterModule("norm", new BatchNorm2d(inChannels));
        Proj = RegisterModule("proj", new Conv2d(inChannels, outChannels, 1, bias: false));
    }

    public int InChannels { get; }
    public int OutChannels { get; }
    public int Height { get; }
    public int Width { get; }
    public BatchNorm2d Norm { get; }
    public Conv2d Proj { get; }

    public override Tensor Forward(Tensor x)
    {
        var map = PatFeatures.AsMap(x);
        if (map.Shape[1] != InChannels)
            throw new ArgumentException($"MapAligner({InChannels}→{OutChannels}): expected {InChannels} channels, got input {ShapeUtil.Format(x.Shape)}.");
        if (map.Shape[2] != Height || map.Shape[3] != Width)
            map = F.Interpolate(map, size: new[] { Height, Width }, mode: "nearest");
        return Proj.Forward(Norm.Forward(map));
    }
}
