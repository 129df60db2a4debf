using CrossDistill.Engine.Kernels;

namespace CrossDistill.Engine;

public static partial class Torch
{
    /// <summary>
    /// The entries of <paramref name="x"/> at positions <paramref name="index"/> (int64, 1-d) along
    /// <paramref name="dim"/> (torch.index_select). Works for float and int64 tensors; the gradient
    /// adds each output row back into the row it came from, in index order.
    /// </summary>
    public static unsafe Tensor IndexSelect(Tensor x, int dim, Tensor index)
    {
        if (index.Rank > 1) throw new ArgumentException($"IndexSelect: the index must be 1-d, got shape {ShapeUtil.Format(index.Shape)}.", nameof(index));
        int d = NormalizeDimFor("IndexSelect", dim, x.Rank);
        int size = x.Shape[d];
        var rows = IndexRows.Checked("IndexSelect", index, size, $"dimension {dim} of size {size}");
        int n = rows.Numel;
        var shape = (int[])x.Shape.Clone();
        shape[d] = n;
        int outer = 1, inner = 1;
        for (int i = 0; i < d; i++) outer *= shape[i];
        for (int i = d + 1; i < shape.Length; i++) inner *= shape[i];

        var output = Tensor.Empty(shape, x.DType);
        using (var xc = DataLayout.Contiguous(x))
            IndexRows.Select(DataLayout.BytePointer(xc), DataLayout.BytePointer(output), outer, size, inner, rows.LongPtr, n, x.DType.ElementSize());
        if (!Autograd.ShouldRecord(x))
        {
            rows.Dispose();
            return output;
        }
        var inputShape = x.Shape;
        return Autograd.Record(output, "IndexSelectBackward", new[] { x }, g =>
        {
            var gx = Zeros(inputShape);
            using var gc = DataLayout.Contiguous(g);
            IndexRows.AddInto(gc.DataPtr, gx.DataPtr, outer, size, inner, rows.LongPtr, n);
            return new[] { gx };
        });
    }
}

public sealed partial class Tensor
{
    public Tensor IndexSelect(int dim, Tensor index) => Torch.IndexSelect(this, dim, index);
}
