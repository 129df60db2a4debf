using CrossDistill.Engine.Kernels;

namespace CrossDistill.Engine;

public static partial class Torch
{
    /// <summary>
    /// Joins tensors along <paramref name="dim"/> (torch.cat). Inputs may have any layout; the
    /// output is channels-last when every input is, else row-major. As in PyTorch, 1-d empty
    /// tensors are skipped whatever the others' rank. Works for float and int64 tensors.
    /// </summary>
    public static Tensor Cat(Tensor[] tensors, int dim = 0)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        if (tensors.Length == 0) throw new ArgumentException("Cat: expected a non-empty array of tensors.", nameof(tensors));
        var joined = tensors.Where(t => !(t.Rank == 1 && t.Numel == 0)).ToArray();
        if (joined.Length == 0) joined = tensors;
        var first = joined[0];
        if (first.Rank == 0) throw new ArgumentException("Cat: zero-dimensional tensors cannot be concatenated.", nameof(tensors));
        int d = NormalizeDimFor("Cat", dim, first.Rank);
        var shape = (int[])first.Shape.Clone();
        shape[d] = 0;
        foreach (var t in joined)
        {
            if (t.DType != first.DType)
                throw new ArgumentException($"Cat: all tensors need the same dtype, got {first.DType} and {t.DType}.", nameof(tensors));
            bool compatible = t.Rank == first.Rank;
            for (int i = 0; compatible && i < t.Rank; i++) compatible = i == d || t.Shape[i] == first.Shape[i];
            if (!compatible)
                throw new ArgumentException($"Cat: sizes must match except in dimension {dim}, got {ShapeUtil.Format(first.Shape)} and {ShapeUtil.Format(t.Shape)}.", nameof(tensors));
            shape[d] += t.Shape[d];
        }

        bool channelsLast = joined.All(DataLayout.IsChannelsLastInput);
        var output = DataLayout.Empty(shape, channelsLast, dtype: first.DType);
        Concat.Into(joined, output, d);
        if (!Autograd.ShouldRecord(tensors)) return output;

        var starts = new int[tensors.Length];
        var skipped = new bool[tensors.Length];
        for (int i = 0, at = 0; i < tensors.Length; i++)
        {
            skipped[i] = !ReferenceEquals(joined, tensors) && tensors[i].Rank == 1 && tensors[i].Numel == 0;
            starts[i] = at;
            if (!skipped[i]) at += tensors[i].Shape[d];
        }
        var inputs = (Tensor[])tensors.Clone();
        return Autograd.Record(output, "CatBackward", inputs, g =>
        {
            var grads = new Tensor?[inputs.Length];
            for (int i = 0; i < inputs.Length; i++)
            {
                if (!inputs[i].RequiresGrad) continue;
                grads[i] = skipped[i] ? Zeros(0) : g.Narrow(d, starts[i], inputs[i].Shape[d]);
            }
            return grads;
        });
    }

    /// <summary>A dim in [-rank, rank) made non-negative, or an ArgumentException naming the op.</summary>
    internal static int NormalizeDimFor(string op, int dim, int rank)
    {
        if (rank == 0 || dim < -rank || dim >= rank)
            throw new ArgumentException($"{op}: dimension {dim} is out of range for a tensor of rank {rank}.", nameof(dim));
        return dim < 0 ? dim + rank : dim;
    }
}
