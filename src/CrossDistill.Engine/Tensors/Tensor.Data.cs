namespace CrossDistill.Engine;

// Reading values out of a tensor, whatever its strides.
public sealed unsafe partial class Tensor
{
    /// <summary>The values in row-major order of the shape.</summary>
    public float[] ToArray()
    {
        if (DType != DType.Float32) throw new InvalidOperationException($"ToArray() reads float tensors; use ToLongArray() for {DType}.");
        if (IsContiguous) return Span.ToArray();
        using var c = Detach();
        using var copy = c.Contiguous();
        return copy.Span.ToArray();
    }

    public long[] ToLongArray()
    {
        if (DType != DType.Int64) throw new InvalidOperationException($"ToLongArray() reads int64 tensors, got {DType}.");
        if (IsContiguous) return LongSpan.ToArray();
        using var c = Detach();
        using var copy = c.Contiguous();
        return copy.LongSpan.ToArray();
    }

    /// <summary>The value of a one-element tensor.</summary>
    public float Item()
    {
        if (Numel != 1) throw new InvalidOperationException($"Item() needs a one-element tensor, got shape {ShapeUtil.Format(Shape)}.");
        return DType == DType.Float32 ? *DataPtr : *LongPtr;
    }

    /// <summary>The element at a full index (slow; for tests and inspection).</summary>
    [System.Runtime.CompilerServices.IndexerName("Element")]
    public float this[params int[] index]
    {
        get
        {
            long off = ElementOffset(index);
            return DType == DType.Float32 ? ((float*)Storage.Pointer)[off] : ((long*)Storage.Pointer)[off];
        }
        set
        {
            long off = ElementOffset(index);
            if (DType == DType.Float32) ((float*)Storage.Pointer)[off] = value;
            else ((long*)Storage.Pointer)[off] = (long)value;
        }
    }

    private long ElementOffset(int[] index)
    {
        if (index.Length != Rank) throw new ArgumentException($"Index of rank {index.Length} for a tensor of rank {Rank}.");
        long off = Offset;
        for (int i = 0; i < Rank; i++)
        {
            int k = index[i] < 0 ? index[i] + Shape[i] : index[i];
            if (k < 0 || k >= Shape[i]) throw new IndexOutOfRangeException($"Index {index[i]} out of range for dim {i} of size {Shape[i]}.");
            off += (long)k * Strides[i];
        }
        return off;
    }
}

internal static class TensorFormatter
{
    public static string Format(Tensor t)
    {
        if (t.IsDisposed) return $"tensor(<disposed>, shape={ShapeUtil.Format(t.Shape)})";
        var head = $"tensor(shape={ShapeUtil.Format(t.Shape)}, dtype={t.DType}{(t.RequiresGrad ? ", requires_grad" : "")}";
        if (t.Numel > 64) return head + ")";
        var values = t.DType == DType.Float32
            ? string.Join(", ", t.ToArray().Select(v => v.ToString("G6", System.Globalization.CultureInfo.InvariantCulture)))
            : string.Join(", ", t.ToLongArray());
        return head + $", values=[{values}])";
    }
}
