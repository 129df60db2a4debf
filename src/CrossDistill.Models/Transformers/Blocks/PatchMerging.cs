using CrossDistill.Engine;
using CrossDistill.Engine.Nn;

namespace CrossDistill.Models.Transformers;

/// <summary>
/// Swin's downsampling between stages: each 2×2 neighbourhood of the H×W map (zero-padded to even
/// sides, as torchvision) is concatenated in the order (0,0), (1,0), (0,1), (1,1) (row, column), then
/// LayerNorm(4C) and a bias-free Linear(4C → 2C). Tokens (N, H·W, C) in, (N, ⌈H/2⌉·⌈W/2⌉, 2C) out.
/// The four strided slices and their concatenation are one row gather.
/// </summary>
public sealed class PatchMerging : Module<Tensor, Tensor>
{
    private readonly Tensor _gather;

    public int Dim { get; }
    public int Height { get; }
    public int Width { get; }
    public int OutHeight => (Height + 1) / 2;
    public int OutWidth => (Width + 1) / 2;
    public LayerNorm Norm { get; }
    public Linear Reduction { get; }

    public PatchMerging(int dim, int height, int width)
    {
        (Dim, Height, Width) = (dim, height, width);
        Norm = RegisterModule("norm", new LayerNorm(4 * dim));
        Reduction = RegisterModule("reduction", new Linear(4 * dim, 2 * dim, bias: false));
        int paddedWidth = 2 * OutWidth;
        var rows = new long[4 * OutHeight * OutWidth];
        int k = 0;
        for (int y = 0; y < OutHeight; y++)
            for (int x = 0; x < OutWidth; x++)
                foreach (var (dy, dx) in new[] { (0, 0), (1, 0), (0, 1), (1, 1) })
                    rows[k++] = (long)(2 * y + dy) * paddedWidth + 2 * x + dx;
        _gather = RegisterBuffer("merge_gather", Torch.FromArray(rows, rows.Length), persistent: false);
    }

    public override Tensor Forward(Tensor x)
    {
        int n = x.Shape[0];
        if (x.Rank != 3 || x.Shape[1] != Height * Width || x.Shape[2] != Dim)
            throw new ArgumentException($"PatchMerging: expected tokens (N, {Height * Width}, {Dim}) of a {Height}×{Width} map, got {ShapeUtil.Format(x.Shape)}.");
        if (Height % 2 != 0 || Width % 2 != 0)
            x = F.Pad(x.Reshape(n, Height, Width, Dim), new[] { 0, 0, 0, Width % 2, 0, Height % 2 }).View(n, 4 * OutHeight * OutWidth, Dim);
        var merged = x.IndexSelect(1, _gather).View(n, OutHeight * OutWidth, 4 * Dim);
        return Reduction.Forward(Norm.Forward(merged));
    }
}
