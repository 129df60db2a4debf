namespace CrossDistill.Engine;

public static partial class Torch
{
    /// <summary>
    /// Views of at most <paramref name="chunks"/> pieces of ceil(size / chunks) along
    /// <paramref name="dim"/>, as torch.chunk: fewer pieces come back when the size runs out first.
    /// </summary>
    public static Tensor[] Chunk(Tensor x, int chunks, int dim = 0)
    {
        if (chunks <= 0) throw new ArgumentException($"Chunk: the number of chunks must be positive, got {chunks}.", nameof(chunks));
        int d = NormalizeDimFor("Chunk", dim, x.Rank);
        int size = x.Shape[d];
        // An empty dim still yields the requested number of (empty) chunks.
        if (size == 0) return Split(x, new int[chunks], d);
        return Split(x, (size + chunks - 1) / chunks, d);
    }
}

public sealed partial class Tensor
{
    public Tensor[] Chunk(int chunks, int dim = 0) => Torch.Chunk(this, chunks, dim);
}
