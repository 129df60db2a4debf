namespace CrossDistill.Engine.Kernels;

/// <summary>
/// Layout checks and unrecorded copies for fused kernels that walk several operands with one set
/// of offsets (an input, its upstream gradient, a soft target).
/// </summary>
internal static unsafe class OperandLayout
{
    /// <summary>True when both are dense with the same strides on every dim of size above one.</summary>
    public static bool SameDenseLayout(Tensor a, Tensor b)
    {
        if (!a.Shape.AsSpan().SequenceEqual(b.Shape) || !a.IsDense || !b.IsDense) return false;
        for (int i = 0; i < a.Rank; i++)
            if (a.Shape[i] != 1 && a.Strides[i] != b.Strides[i]) return false;
        return true;
    }

    /// <summary>A copy of <paramref name="t"/> (broadcast to <paramref name="like"/>'s shape) stored with <paramref name="like"/>'s dense strides; never recorded.</summary>
    public static Tensor CopyLike(Tensor t, Tensor like)
    {
        var copy = Tensor.Empty((int[])like.Shape.Clone(), Tensor.DenseStridesOf(like), t.DType);
        using var source = t.Detach();
        copy.CopyFrom(source);
        return copy;
    }

    /// <summary>A row-major copy of <paramref name="t"/> broadcast to <paramref name="shape"/>, never recorded.</summary>
    public static Tensor CopyBroadcast(Tensor t, int[] shape)
    {
        var copy = Tensor.Empty((int[])shape.Clone(), t.DType);
        using var source = t.Detach();
        copy.CopyFrom(source);
        return copy;
    }

    /// <summary>A row-major copy, never recorded.</summary>
    public static Tensor CopyContiguous(Tensor t)
    {
        var copy = Tensor.Empty((int[])t.Shape.Clone(), t.DType);
        StridedCopy.Copy(t, copy);
        return copy;
    }

    /// <summary><paramref name="t"/> itself when it already has <paramref name="like"/>'s layout, else an unrecorded copy in that layout; <paramref name="copied"/> says which.</summary>
    public static Tensor MatchLayout(Tensor t, Tensor like, out bool copied)
    {
        copied = !SameDenseLayout(t, like);
        return copied ? CopyLike(t, like) : t;
    }
}
