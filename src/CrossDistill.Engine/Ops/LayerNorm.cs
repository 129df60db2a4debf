using CrossDistill.Engine.Kernels;

namespace CrossDistill.Engine;

public static unsafe partial class F
{
    /// <summary>
    /// torch.nn.functional.layer_norm: normalises over the trailing dims given by
    /// <paramref name="normalizedShape"/> (biased variance), then applies the elementwise
    /// <paramref name="weight"/> and <paramref name="bias"/> of that shape. A non-contiguous input is
    /// copied to row-major first; the output is row-major.
    /// </summary>
    public static Tensor LayerNorm(Tensor x, int[] normalizedShape, Tensor? weight = null, Tensor? bias = null, float eps = 1e-5f)
    {
        if (x.DType != DType.Float32) throw new ArgumentException($"LayerNorm: x must be float32, got {x.DType}.", nameof(x));
        if (normalizedShape is null || normalizedShape.Length == 0)
            throw new ArgumentException("LayerNorm: normalizedShape must have at least one dim.", nameof(normalizedShape));
        int lead = x.Rank - normalizedShape.Length;
        if (lead < 0 || !x.Shape.AsSpan(lead).SequenceEqual(normalizedShape))
            throw new ArgumentException($"LayerNorm: input of shape {ShapeUtil.Format(x.Shape)} does not end with normalizedShape {ShapeUtil.Format(normalizedShape)}.", nameof(normalizedShape));
        CheckParameterShape("LayerNorm", nameof(weight), weight, normalizedShape);
        CheckParameterShape("LayerNorm", nameof(bias), bias, normalizedShape);

        int d = ShapeUtil.Numel(normalizedShape);
        int rows = d == 0 ? 0 : x.Numel / d;
        bool copied = !x.IsContiguous;
        var work = copied ? OperandLayout.CopyContiguous(x) : x;
        // The kernel takes both weight and bias or neither; a missing one becomes ones or zeros.
        var weightRow = weight is null ? null : weight.IsContiguous ? weight : OperandLayout.CopyContiguous(weight);
        var biasRow = bias is null ? null : bias.IsContiguous ? bias : OperandLayout.CopyContiguous(bias);
        if (weightRow is not null || biasRow is not null)
        {
            weightRow ??= Torch.Ones(normalizedShape);
            biasRow ??= Torch.Zeros(normalizedShape);
        }

        var saved = Tensor.Empty(new[] { 2, rows });
        float* mean = saved.DataPtr, invStd = mean + rows;
        var y = Tensor.Empty((int[])x.Shape.Clone());
        if (x.Numel > 0)
            LayerNormKernel.Forward(work.DataPtr, y.DataPtr, rows, d, weightRow is null ? null : weightRow.DataPtr, biasRow is null ? null : biasRow.DataPtr, eps, mean, invStd);
        if (biasRow is not null && !ReferenceEquals(biasRow, bias)) biasRow.Dispose();

        var inputs = new List<Tensor> { x };
        if (weight is not null) inputs.Add(weight);
        if (bias is not null) inputs.Add(bias);
        if (!Autograd.ShouldRecord(inputs.ToArray()))
        {
            saved.Dispose();
            if (copied) work.Dispose();
            if (weightRow is not null && !ReferenceEquals(weightRow, weight)) weightRow.Dispose();
            return y;
        }
        // The backward scales each row by the weight: ones when there is none.
        var backwardWeight = weightRow ?? Torch.Ones(normalizedShape);
        return Autograd.Record(y, "NativeLayerNormBackward", inputs.ToArray(),
            g => LayerNormBackward(g, x, work, rows, d, saved, backwardWeight, weight, bias));
    }

    private static Tensor?[] LayerNormBackward(Tensor g, Tensor x, Tensor work, int rows, int d, Tensor saved, Tensor weightRow, Tensor? weight, Tensor? bias)
    {
        bool needX = x.RequiresGrad, needParams = weight?.RequiresGrad == true || bias?.RequiresGrad == true;
        var dy = g.IsContiguous ? g : OperandLayout.CopyContiguous(g);
        Tensor? dx = needX ? Tensor.Empty((int[])x.Shape.Clone()) : null;
        Tensor? dw = needParams ? Tensor.Empty((int[])weightRow.Shape.Clone()) : null;
        Tensor? db = needParams ? Tensor.Empty((int[])weightRow.Shape.Clone()) : null;
        float* mean = saved.DataPtr, invStd = mean + rows;
        if (rows > 0 && d > 0)
            LayerNormKernel.Backward(work.DataPtr, dy.DataPtr, dx is null ? null : dx.DataPtr, rows, d, mean, invStd, weightRow.DataPtr,
                dw is null ? null : dw.DataPtr, db is null ? null : db.DataPtr);
        else
        {
            dw?.ZeroInPlace();
            db?.ZeroInPlace();
        }
        if (!ReferenceEquals(dy, g)) dy.Dispose();
        // The kernel writes both parameter gradients; keep only those asked for.
        if (weight?.RequiresGrad != true) { dw?.Dispose(); dw = null; }
        if (bias?.RequiresGrad != true) { db?.Dispose(); db = null; }
        var grads = new List<Tensor?> { dx };
        if (weight is not null) grads.Add(dw);
        if (bias is not null) grads.Add(db);
        return grads.ToArray();
    }

    private static void CheckParameterShape(string op, string name, Tensor? t, int[] shape)
    {
        if (t is null) return;
        if (t.DType != DType.Float32) throw new ArgumentException($"{op}: {name} must be float32, got {t.DType}.", name);
        if (!t.Shape.AsSpan().SequenceEqual(shape))
            throw new ArgumentException($"{op}: {name} must have shape {ShapeUtil.Format(shape)}, got {ShapeUtil.Format(t.Shape)}.", name);
    }
}
