namespace CrossDistill.Engine;

public static partial class Torch
{
    /// <summary>
    /// Views of every index along <paramref name="dim"/>, with that dimension removed (torch.unbind).
    /// Unlike one <see cref="Tensor.Select"/> per index, the pieces share one backward node (as
    /// <see cref="Split(Tensor, int, int)"/>'s do), so the input's gradient is assembled once instead
    /// of one zero-filled, full-size gradient per piece summed together: q, k and v of attention.
    /// </summary>
    public static Tensor[] Unbind(Tensor x, int dim = 0)
    {
        int d = NormalizeDimFor("Unbind", dim, x.Rank);
        var pieces = Split(x, 1, d);
        if (pieces.Length != x.Shape[d]) return Array.Empty<Tensor>(); // a zero-size dimension has no pieces
        return Array.ConvertAll(pieces, p => p.Squeeze(d));
    }
}

public sealed partial class Tensor
{
    public Tensor[] Unbind(int dim = 0) => Torch.Unbind(this, dim);
}
