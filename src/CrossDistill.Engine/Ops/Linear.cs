using CrossDistill.Engine.Kernels;

namespace CrossDistill.Engine;

public static unsafe partial class F
{
    /// <summary>
    /// torch.nn.functional.linear: y = x·Wᵀ + b for x of shape (…, in), W of shape [out, in] and b of
    /// shape [out]. The leading dims of x are one tall matrix for a single GEMM that reads W transposed
    /// in place; the bias is written first and the GEMM accumulates onto it.
    /// </summary>
    public static Tensor Linear(Tensor x, Tensor weight, Tensor? bias = null)
    {
        if (weight.Rank != 2) throw new ArgumentException($"Linear: weight must be 2-d [out, in], got shape {ShapeUtil.Format(weight.Shape)}.");
        int outFeatures = weight.Shape[0], inFeatures = weight.Shape[1];
        if (x.Rank == 0 || x.Shape[^1] != inFeatures)
            throw new ArgumentException($"Linear: input of shape {ShapeUtil.Format(x.Shape)} does not end in the weight's {inFeatures} input features (weight {ShapeUtil.Format(weight.Shape)}).");
        if (bias is not null && (bias.Rank != 1 || bias.Shape[0] != outFeatures))
            throw new ArgumentException($"Linear: bias must have shape [{outFeatures}], got {ShapeUtil.Format(bias.Shape)}.");

        var y = Tensor.Empty([.. x.Shape[..^1], outFeatures]);
        using (var xCopy = RowsOf(x, out var xRows))
        {
            float beta = 0f;
            if (bias is not null && y.Numel > 0)
            {
                using var detachedBias = bias.Detach();
                using var denseBias = detachedBias.Contiguous();
                MatrixProduct.FillRows(y.DataPtr, xRows.Rows, outFeatures, denseBias.DataPtr, outFeatures);
                beta = 1f;
            }
            MatrixProduct.Multiply(xRows, StridedMatrix.LastTwoDims(weight).Transposed, y.DataPtr, outFeatures, 1f, beta);
        }
        if (!Autograd.ShouldRecord(bias is null ? new[] { x, weight } : new[] { x, weight, bias })) return y;

        var inputs = bias is null ? new[] { x, weight } : new[] { x, weight, bias };
        return Autograd.Record(y, "LinearBackward", inputs, g =>
        {
            using var gCopy = RowsOf(g, out var gRows);
            Tensor? dx = null, dw = null, db = null;
            if (x.RequiresGrad)
            {
                // dx = g·W
                dx = Tensor.Empty((int[])x.Shape.Clone());
                MatrixProduct.Multiply(gRows, StridedMatrix.LastTwoDims(weight), dx.DataPtr, inFeatures);
            }
            if (weight.RequiresGrad)
            {
                // dW = gᵀ·x
                dw = Tensor.Empty([outFeatures, inFeatures]);
                using var xCopy = RowsOf(x, out var xRows);
                MatrixProduct.Multiply(gRows.Transposed, xRows, dw.DataPtr, inFeatures);
            }
            if (bias is not null && bias.RequiresGrad) db = g.SumTo([outFeatures]);
            var grads = new Tensor?[inputs.Length];
            grads[0] = dx;
            grads[1] = dw;
            if (bias is not null) grads[2] = db;
            return grads;
        });
    }

    /// <summary>
    /// <paramref name="t"/> as a [rows, last dim] matrix, through a dense copy (returned for the
    /// caller to dispose) when its leading dims do not merge into one stride.
    /// </summary>
    private static Tensor? RowsOf(Tensor t, out StridedMatrix rows)
    {
        if (StridedMatrix.TryRows(t, out rows)) return null;
        using var detached = t.Detach();
        var copy = detached.Contiguous();
        StridedMatrix.TryRows(copy, out rows);
        return copy;
    }
}
