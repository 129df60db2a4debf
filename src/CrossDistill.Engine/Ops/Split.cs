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

    /// <summary>
    /// The pieces are plain views sharing one backward node: it runs once, after every used piece's
    /// gradient is known, and builds the input's gradient in a single pass (a cat when every piece
    /// has a gradient, else copies into zeros) rather than one full-size gradient per piece.
    /// </summary>
    private static Tensor[] Pieces(Tensor x, int[] sizes, int d)
    {
        var pieces = new Tensor[sizes.Length];
        var starts = new int[sizes.Length];
        for (int i = 0, start = 0; i < sizes.Length; start += sizes[i], i++)
        {
            var shape = (int[])x.Shape.Clone();
            shape[d] = sizes[i];
            starts[i] = start;
            pieces[i] = x.ViewOf(shape, (int[])x.Strides.Clone(), x.Offset + start * x.Strides[d]);
        }
        if (!Autograd.ShouldRecord(x)) return pieces;
        var inputShape = x.Shape;
        return Autograd.RecordMulti(pieces, "SplitBackward", new[] { x }, grads => new[] { AssembleSplitGradient(grads, inputShape, sizes, starts, d) });
    }

    private static Tensor AssembleSplitGradient(Tensor?[] grads, int[] inputShape, int[] sizes, int[] starts, int d)
    {
        if (Array.TrueForAll(grads, g => g is not null)) return Cat(grads!, d);
        var full = Zeros(inputShape);
        for (int i = 0; i < grads.Length; i++)
        {
            if (grads[i] is not { } g) continue;
            using var slot = full.Narrow(d, starts[i], sizes[i]);
            slot.CopyFrom(g);
        }
        return full;
    }
}

public sealed partial class Tensor
{
    public Tensor[] Split(int splitSize, int dim = 0) => Torch.Split(this, splitSize, dim);
    public Tensor[] Split(int[] sizes, int dim = 0) => Torch.Split(this, sizes, dim);
}
