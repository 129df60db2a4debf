using CrossDistill.Engine;
using CrossDistill.Engine.Nn;

namespace CrossDistill.Models.Transformers;

/// <summary>
/// A Swin Transformer block on tokens (N, H·W, C) of a fixed map: x + drop_path(W-MSA(norm1(x)))
/// with (shifted) windows, then x + drop_path(mlp(norm2(x))). Even blocks of a stage use plain
/// windows, odd ones windows shifted by half a window. Names: norm1, attn, norm2, mlp (timm's
/// mlp.fc1/fc2 or torchvision's mlp.0/3).
/// </summary>
public sealed class SwinBlock : Module<Tensor, Tensor>
{
    private readonly Tensor? _partition;
    private readonly Tensor? _reverse;
    private readonly Tensor? _shiftMask;

    public WindowGeometry Geometry { get; }
    public LayerNorm Norm1 { get; }
    public WindowAttention Attention { get; }
    public LayerNorm Norm2 { get; }
    public FeedForward Mlp { get; }
    public int Dim { get; }
    public float DropPathRate { get; }

    public SwinBlock(int dim, int numHeads, WindowGeometry geometry, double mlpRatio, float dropRate, float dropPathRate, WeightNaming naming)
    {
        (Dim, Geometry, DropPathRate) = (dim, geometry, dropPathRate);
        Norm1 = RegisterModule("norm1", new LayerNorm(dim));
        Attention = RegisterModule("attn", new WindowAttention(dim, numHeads, geometry.Window, dropRate, persistentIndex: naming == WeightNaming.Torchvision));
        Norm2 = RegisterModule("norm2", new LayerNorm(dim));
        Mlp = RegisterModule("mlp", new FeedForward(dim, (int)(dim * mlpRatio), dropRate, naming));
        if (geometry.Partition() is { } partition) _partition = RegisterBuffer("window_partition", Torch.FromArray(partition, partition.Length), persistent: false);
        if (geometry.Reverse() is { } reverse) _reverse = RegisterBuffer("window_reverse", Torch.FromArray(reverse, reverse.Length), persistent: false);
        if (geometry.ShiftMask() is { } mask)
        {
            int area = geometry.WindowArea;
            _shiftMask = RegisterBuffer("shift_mask", Torch.FromArray(mask, geometry.WindowCount, 1, area, area), persistent: false);
        }
    }

    public override Tensor Forward(Tensor x)
    {
        int n = x.Shape[0], h = Geometry.Height, w = Geometry.Width;
        if (x.Rank != 3 || x.Shape[1] != h * w || x.Shape[2] != Dim)
            throw new ArgumentException($"SwinBlock: expected tokens (N, {h * w}, {Dim}) of a {h}×{w} map, got {ShapeUtil.Format(x.Shape)}.");
        var windows = Norm1.Forward(x);
        if (Geometry.IsPadded)
            windows = F.Pad(windows.View(n, h, w, Dim), new[] { 0, 0, 0, Geometry.PaddedWidth - w, 0, Geometry.PaddedHeight - h })
                .View(n, Geometry.PaddedHeight * Geometry.PaddedWidth, Dim);
        if (_partition is not null) windows = windows.IndexSelect(1, _partition);
        var attended = Attention.Forward(windows, Geometry.WindowCount, _shiftMask);
        if (_reverse is not null) attended = attended.IndexSelect(1, _reverse);
        x = x + F.DropPath(attended, DropPathRate, Training);
        return x + F.DropPath(Mlp.Forward(Norm2.Forward(x)), DropPathRate, Training);
    }
}
