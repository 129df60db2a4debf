using CrossDistill.Engine.Kernels;

namespace CrossDistill.Engine;

public static partial class Torch
{
    /// <summary>
    /// Joins equally shaped tensors along a new dim <paramref name="dim"/> (torch.stack), into a
    /// row-major output. Works for float and int64 tensors.
    /// </summary>
    public static Tensor Stack(Tensor[] tensors, int dim = 0)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        if (tensors.Length == 0) throw new ArgumentException("Stack: expected a non-empty array of tensors.", nameof(tensors));
        var first = tensors[0];
        foreach (var t in tensors)
        {
            if (t.DType != first.DType)
                throw new ArgumentException($"Stack: all tensors need the same dtype, got {first.DType} and {t.DType}.", nameof(tensors));
            if (!t.Shape.AsSpan().SequenceEqual(first.Shape))
                throw new ArgumentException($"Stack: all tensors need the same shape, got {ShapeUtil.Format(first.Shape)} and {ShapeUtil.Format(t.Shape)}.", nameof(tensors));
        }
        int d = NormalizeDimFor("Stack", dim, first.Rank + 1);
        var shape = first.Shape.ToList();
        shape.Insert(d, tensors.Length);
        var output = Tensor.Empty(shape.ToArray(), first.DType);

        // Each input seen with the new size-1 dim in place, so stacking is a concatenation.
        var parts = new Tensor[tensors.Length];
        try
        {
            for (int i = 0; i < tensors.Length; i++)
            {
                var t = tensors[i];
                var partShape = t.Shape.ToList();
                var partStrides = t.Strides.ToList();
                partShape.Insert(d, 1);
                partStrides.Insert(d, 1);
                parts[i] = DataLayout.RawView(t, partShape.ToArray(), partStrides.ToArray(), t.Offset);
            }
            Concat.Into(parts, output, d);
        }
        finally
        {
            foreach (var p in parts) p?.Dispose();
        }
        if (!Autograd.ShouldRecord(tensors)) return output;
        var inputs = (Tensor[])tensors.Clone();
        return Autograd.Record(output, "StackBackward", inputs, g =>
        {
            var grads = new Tensor?[inputs.Length];
            for (int i = 0; i < inputs.Length; i++)
                if (inputs[i].RequiresGrad) grads[i] = g.Select(d, i);
            return grads;
        });
    }
}
