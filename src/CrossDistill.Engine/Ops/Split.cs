namespace CrossDistill.Engine;

public static partial class Torch
{
    /// <summary>
    /// Views of consecutive pieces of <paramref name="splitSize"/> along <paramref name="dim"/>; the
    /// last piece is shorter when the size does not divide (torch.split).
    /// </summary>
    public static Tensor[] Split(Tensor x, int splitSize, int dim = 0)
    {
        int d = NormalizeDimFor("Split", dim, x.Rank);
        int size = x.Shape[d];
        if (splitSize < 0 || (splitSize == 0 && size != 0))
            throw new ArgumentException($"Split: split size {splitSize} cannot split dimension {dim} of size {size}.", nameof(splitSize));
        int count = splitSize == 0 ? 1 : Math.Max(1, (size + splitSize - 1) / splitSize);
        var sizes = new int[count];
        for (int i = 0; i < count; i++) sizes[i] = Math.Min(splitSize, size - i * splitSize);
        return Pieces(x, sizes, d);
    }

    /// <summary>Views of consecutive pieces with the given <paramref name="sizes"/> along <paramref name="dim"/> (torch.split with a list).</summary>
    public static Tensor[] Split(Tensor x, int[] sizes, int dim = 0)
    {
        ArgumentNullException.ThrowIfNull(sizes);
        int d = NormalizeDimFor("Split", dim, x.Rank);
        long total = 0;
        foreach (int s in sizes)
        {
            if (s < 0) throw new ArgumentException($"Split: negative size in [{string.Join(", ", sizes)}].", nameof(sizes));
            total += s;
        }
        if (total != x.Shape[d])
            throw new ArgumentException($"Split: sizes [{string.Join(", ", sizes)}] add up to {total}, but dimension {dim} of {ShapeUtil.Format(x.Shape)} has size {x.Shape[d]}.", nameof(sizes));
        return Pieces(x, sizes, d);
    }

    private static Tensor[] Pieces(Tensor x, int[] sizes, int d)
    {
        var pieces = new Tensor[sizes.Length];
        for (int i = 0, start = 0; i < sizes.Length; start += sizes[i], i++) pieces[i] = x.Narrow(d, start, sizes[i]);
        return pieces;
    }
}

public sealed partial class Tensor
{
    public Tensor[] Split(int splitSize, int dim = 0) => Torch.Split(this, splitSize, dim);
    public Tensor[] Split(int[] sizes, int dim = 0) => Torch.Split(this, sizes, dim);
}
