using CrossDistill.Engine;
using CrossDistill.Engine.Nn;

namespace CrossDistill.Training.Distillers.Modules;

/// <summary>
/// Swin-style patch merging as OFA-KD uses it in its token branches: each 2×2 neighbourhood of a
/// square token grid is concatenated (order (0,0), (1,0), (0,1), (1,1)) → LayerNorm(4C) →
/// Linear(4C → out, no bias) → optional GELU. An odd grid is zero-padded at the bottom and right
/// first, as torchvision's Swin does (the official module only accepts even grids).
/// </summary>
public sealed class PatchMerging : Module<Tensor, Tensor>
{
    private readonly LayerNorm _norm;
    private readonly Linear _reduction;

    public PatchMerging(int grid, int dim, int outDim, bool gelu)
    {
        if (grid < 1) throw new ArgumentException($"PatchMerging: the grid side must be positive, got {grid}.", nameof(grid));
        Grid = grid;
        Dim = dim;
        Gelu = gelu;
        _norm = RegisterModule("norm", new LayerNorm(4 * dim));
        _reduction = RegisterModule("reduction", new Linear(4 * dim, outDim, bias: false));
    }

    /// <summary>The input grid side; the output grid side is ⌈grid/2⌉.</summary>
    public int Grid { get; }
    public int Dim { get; }
    public bool Gelu { get; }
    public int OutputGrid => (Grid + 1) / 2;

    public override Tensor Forward(Tensor x)
    {
        if (x.Rank != 3 || x.Shape[1] != Grid * Grid || x.Shape[2] != Dim)
            throw new ArgumentException($"PatchMerging: expected (N, {Grid * Grid}, {Dim}) tokens of a {Grid}×{Grid} grid, got {ShapeUtil.Format(x.Shape)}.", nameof(x));
        int n = x.Shape[0], padded = Grid + Grid % 2, half = padded / 2;
        var map = x.Reshape(n, Grid, Grid, Dim);
        if (padded != Grid) map = F.Pad(map, new[] { 0, 0, 0, 1, 0, 1 });
        Tensor Quarter(int row, int col) => map.Slice(1, row, padded, 2).Slice(2, col, padded, 2);
        var merged = Torch.Cat(new[] { Quarter(0, 0), Quarter(1, 0), Quarter(0, 1), Quarter(1, 1) }, 3).Reshape(n, half * half, 4 * Dim);
        var y = _reduction.Forward(_norm.Forward(merged));
        return Gelu ? F.Gelu(y) : y;
    }
}
