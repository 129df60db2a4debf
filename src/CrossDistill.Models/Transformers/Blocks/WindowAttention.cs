using CrossDistill.Engine;
using CrossDistill.Engine.Nn;

namespace CrossDistill.Models.Transformers;

/// <summary>
/// Swin's window multi-head self-attention with a learned relative position bias (timm's
/// WindowAttention, torchvision's ShiftedWindowAttention: qkv, proj,
/// relative_position_bias_table and the relative_position_index buffer). It takes the windowed
/// sequence (N, windows·area, C) and adds the bias, plus the shift mask when given, to every
/// window's scores; attention runs through F.ScaledDotProductAttention with all windows of a
/// sample as batch dims.
/// </summary>
public sealed class WindowAttention : Module
{
    private readonly Tensor _relativePositionIndex;

    public int Dim { get; }
    public int NumHeads { get; }
    public int Window { get; }
    public float DropRate { get; }
    public Linear Qkv { get; }
    public Linear Proj { get; }
    public Tensor RelativePositionBiasTable { get; }

    /// <param name="persistentIndex">
    /// Whether relative_position_index is part of the state dict: torchvision saves it (as
    /// (area²)); current timm does not, and timm's checkpoint filter drops it.
    /// </param>
    public WindowAttention(int dim, int numHeads, int window, float dropRate, bool persistentIndex)
    {
        if (numHeads < 1 || dim % numHeads != 0)
            throw new ArgumentException($"WindowAttention: dim {dim} is not divisible by {numHeads} heads.");
        (Dim, NumHeads, Window, DropRate) = (dim, numHeads, window, dropRate);
        Qkv = RegisterModule("qkv", new Linear(dim, 3 * dim));
        Proj = RegisterModule("proj", new Linear(dim, dim));
        RelativePositionBiasTable = RegisterParameter("relative_position_bias_table", Torch.Zeros((2 * window - 1) * (2 * window - 1), numHeads));
        Init.TruncNormal_(RelativePositionBiasTable, std: 0.02);
        _relativePositionIndex = RegisterBuffer("relative_position_index",
            Torch.FromArray(WindowGeometry.RelativePositionIndex(window), window * window * window * window), persistentIndex);
    }

    /// <summary>The bias (heads, area, area) each window adds to its attention scores.</summary>
    public Tensor RelativePositionBias()
    {
        int area = Window * Window;
        return RelativePositionBiasTable.IndexSelect(0, _relativePositionIndex).View(area, area, NumHeads).Permute(2, 0, 1);
    }

    /// <param name="windows">(N, windows·area, C): each window's tokens consecutive.</param>
    /// <param name="shiftMask">(windows, 1, area, area) or null.</param>
    public Tensor Forward(Tensor windows, int windowCount, Tensor? shiftMask)
    {
        int n = windows.Shape[0], area = Window * Window, headDim = Dim / NumHeads;
        if (windows.Rank != 3 || windows.Shape[1] != windowCount * area || windows.Shape[2] != Dim)
            throw new ArgumentException($"WindowAttention: expected (N, {windowCount * area}, {Dim}) for {windowCount} windows of {area} tokens, got {ShapeUtil.Format(windows.Shape)}.");
        // Contiguous (3, N, windows, heads, area, headDim), as in SelfAttention: evenly spaced batch matrices.
        var qkv = Qkv.Forward(windows).View(n, windowCount, area, 3, NumHeads, headDim).Permute(3, 0, 1, 4, 2, 5).Contiguous();
        var bias = RelativePositionBias();
        var mask = shiftMask is null ? bias : bias + shiftMask;
        var qkvPieces = qkv.Unbind(0); // one backward node: q, k and v gradients fill one buffer, not three zero-filled ones
        var attended = F.ScaledDotProductAttention(qkvPieces[0], qkvPieces[1], qkvPieces[2], mask);
        var merged = attended.Permute(0, 1, 3, 2, 4).Reshape(n, windowCount * area, Dim);
        return F.Dropout(Proj.Forward(merged), DropRate, Training);
    }
}
