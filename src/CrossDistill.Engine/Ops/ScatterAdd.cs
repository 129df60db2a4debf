using CrossDistill.Engine.Kernels;

namespace CrossDistill.Engine;

public static partial class Torch
{
    /// <summary>
    /// A copy of <paramref name="x"/> with src[…, j, …] added at x[…, index[…, j, …], …] along
    /// <paramref name="dim"/> (torch.scatter_add, out of place). Only the index-shaped front of
    /// <paramref name="src"/> is read; the rest of it gets a zero gradient. Sums run in index order,
    /// so results do not depend on the thread count.
    /// </summary>
    public static unsafe Tensor ScatterAdd(Tensor x, int dim, Tensor index, Tensor src)
    {
        if (x.DType != DType.Float32 || src.DType != DType.Float32)
            throw new ArgumentException($"ScatterAdd: expected float32 x and src, got {x.DType} and {src.DType}.");
        int d = NormalizeDimFor("ScatterAdd", dim, x.Rank);
        CheckIndexFits("ScatterAdd", index, x, d, "x");
        bool fitsSrc = index.Rank == src.Rank;
        for (int i = 0; fitsSrc && i < index.Rank; i++) fitsSrc = index.Shape[i] <= src.Shape[i];
        if (!fitsSrc)
            throw new ArgumentException($"ScatterAdd: index of shape {ShapeUtil.Format(index.Shape)} is larger than src of shape {ShapeUtil.Format(src.Shape)}.", nameof(index));
        var lines = IndexRows.Checked("ScatterAdd", index, x.Shape[d], $"dimension {dim} of size {x.Shape[d]}");

        var output = Tensor.Empty((int[])x.Shape.Clone());
        StridedCopy.Copy(x, output);
        GatherScatter.ScatterAdd(output.DataPtr, output.Strides, lines.LongPtr, lines.Shape, src.DataPtr, src.Strides, d);
        if (!Autograd.ShouldRecord(x, src))
        {
            lines.Dispose();
            return output;
        }
        var srcShape = src.Shape;
        return Autograd.Record(output, "ScatterAddBackward", new[] { x, src }, g =>
        {
            Tensor? gsrc = null;
            if (src.RequiresGrad)
            {
                gsrc = Zeros(srcShape);
                GatherScatter.Gather(g.DataPtr, g.Strides, lines.LongPtr, lines.Shape, gsrc.DataPtr, gsrc.Strides, d);
            }
            return new[] { x.RequiresGrad ? g : null, gsrc };
        });
    }
}

public sealed partial class Tensor
{
    public Tensor ScatterAdd(int dim, Tensor index, Tensor src) => Torch.ScatterAdd(this, dim, index, src);
}
