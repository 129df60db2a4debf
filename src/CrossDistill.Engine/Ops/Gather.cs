using CrossDistill.Engine.Kernels;

namespace CrossDistill.Engine;

public static partial class Torch
{
    /// <summary>
    /// out[i][j][k] = x[i][index[i][j][k]][k] for dim 1, and likewise for any dim (torch.gather).
    /// <paramref name="index"/> is int64 with x's rank and no larger than x outside <paramref name="dim"/>.
    /// </summary>
    public static unsafe Tensor Gather(Tensor x, int dim, Tensor index)
    {
        if (x.DType != DType.Float32) throw new ArgumentException($"Gather: expected a float32 tensor, got {x.DType}.", nameof(x));
        int d = NormalizeDimFor("Gather", dim, x.Rank);
        CheckIndexFits("Gather", index, x, d, "x");
        var lines = IndexRows.Checked("Gather", index, x.Shape[d], $"dimension {dim} of size {x.Shape[d]}");
        var output = Tensor.Empty((int[])index.Shape.Clone());
        GatherScatter.Gather(x.DataPtr, x.Strides, lines.LongPtr, lines.Shape, output.DataPtr, output.Strides, d);
        if (!Autograd.ShouldRecord(x))
        {
            lines.Dispose();
            return output;
        }
        var inputShape = x.Shape;
        return Autograd.Record(output, "GatherBackward", new[] { x }, g =>
        {
            var gx = Zeros(inputShape);
            GatherScatter.ScatterAdd(gx.DataPtr, gx.Strides, lines.LongPtr, lines.Shape, g.DataPtr, g.Strides, d);
            return new[] { gx };
        });
    }

    /// <summary>The index of gather/scatter: int64, the same rank, and within <paramref name="target"/> outside dim <paramref name="d"/>.</summary>
    private static void CheckIndexFits(string op, Tensor index, Tensor target, int d, string targetName)
    {
        if (index.DType != DType.Int64) throw new ArgumentException($"{op}: the index must be an int64 tensor, got {index.DType}.", nameof(index));
        bool fits = index.Rank == target.Rank;
        for (int i = 0; fits && i < index.Rank; i++) fits = i == d || index.Shape[i] <= target.Shape[i];
        if (!fits)
            throw new ArgumentException($"{op}: index of shape {ShapeUtil.Format(index.Shape)} does not fit {targetName} of shape {ShapeUtil.Format(target.Shape)} outside dimension {d}.", nameof(index));
    }
}

public sealed partial class Tensor
{
    public Tensor Gather(int dim, Tensor index) => Torch.Gather(this, dim, index);
}
