using CrossDistill.Engine.Kernels;

namespace CrossDistill.Engine;

public static partial class F
{
    /// <summary>
    /// Rows of <paramref name="weight"/> [rows, dim] picked by int64 <paramref name="indices"/> of
    /// any shape: the output has shape indices.shape + [dim] (F.embedding). The weight gradient adds
    /// the output gradients into their rows in index order, so repeated indices sum deterministically.
    /// </summary>
    public static unsafe Tensor Embedding(Tensor indices, Tensor weight)
    {
        if (weight.Rank != 2 || weight.DType != DType.Float32)
            throw new ArgumentException($"Embedding: the weight must be a 2-d float32 tensor, got shape {ShapeUtil.Format(weight.Shape)} ({weight.DType}).", nameof(weight));
        int rows = weight.Shape[0], width = weight.Shape[1];
        var picks = IndexRows.Checked("Embedding", indices, rows, $"a weight of {rows} rows");
        int n = picks.Numel;
        var output = Tensor.Empty(indices.Shape.Append(width).ToArray());
        using (var wc = DataLayout.Contiguous(weight))
            IndexRows.Select((byte*)wc.DataPtr, (byte*)output.DataPtr, 1, rows, width, picks.LongPtr, n, sizeof(float));
        if (!Autograd.ShouldRecord(weight))
        {
            picks.Dispose();
            return output;
        }
        return Autograd.Record(output, "EmbeddingBackward", new[] { weight }, g =>
        {
            var gw = Torch.Zeros(rows, width);
            using var gc = DataLayout.Contiguous(g);
            IndexRows.AddInto(gc.DataPtr, gw.DataPtr, 1, rows, width, picks.LongPtr, n);
            return new[] { gw };
        });
    }
}
