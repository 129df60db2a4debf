namespace CrossDistill.Engine.Kernels;

/// <summary>
/// How a kernel walks one dim (the classes of a loss, the reduced dim of a cosine similarity) of
/// a dense tensor: the other dims form Outer·Inner positions, p = o·Inner + i, in row-major order
/// of the remaining dims. Element (p, k) sits at p·Axis + k when the dim is innermost in memory (a
/// row-major (N, C) tensor, channels-last logits) and at (o·Axis + k)·Inner + i in a row-major
/// tensor whose dim is followed by others (NCHW logits).
/// </summary>
internal readonly struct AxisLayout
{
    public readonly int Outer, Axis, Inner;
    public readonly bool AxisInnermost;

    private AxisLayout(int outer, int axis, int inner, bool axisInnermost)
    {
        Outer = outer;
        Axis = axis;
        Inner = inner;
        AxisInnermost = axisInnermost;
    }

    public int Positions => Outer * Inner;

    /// <summary>Element offset of (position, index along the dim).</summary>
    public long Offset(int position, int k)
        => AxisInnermost ? (long)position * Axis + k : ((long)(position / Inner) * Axis + k) * Inner + position % Inner;

    /// <summary>
    /// Returns <paramref name="t"/> when it can be walked as it is, else an unrecorded row-major
    /// copy (<paramref name="copied"/> is then true and the caller owns it).
    /// </summary>
    public static Tensor Prepare(Tensor t, int dim, out AxisLayout layout, out bool copied)
    {
        int outer = 1, inner = 1;
        for (int i = 0; i < dim; i++) outer *= t.Shape[i];
        for (int i = dim + 1; i < t.Rank; i++) inner *= t.Shape[i];
        int axis = t.Shape[dim];
        copied = false;
        if (inner > 1 && AxisLastIsContiguous(t, dim))
        {
            layout = new AxisLayout(outer, axis, inner, axisInnermost: true);
            return t;
        }
        layout = new AxisLayout(outer, axis, inner, axisInnermost: inner == 1);
        if (t.IsContiguous) return t;
        copied = true;
        return OperandLayout.CopyContiguous(t);
    }

    /// <summary>True when moving <paramref name="dim"/> to the end gives a row-major tensor.</summary>
    private static bool AxisLastIsContiguous(Tensor t, int dim)
    {
        long expected = 1;
        if (t.Shape[dim] != 1 && t.Strides[dim] != 1) return false;
        expected *= t.Shape[dim];
        for (int i = t.Rank - 1; i >= 0; i--)
        {
            if (i == dim) continue;
            if (t.Shape[i] != 1 && t.Strides[i] != expected) return false;
            expected *= t.Shape[i];
        }
        return true;
    }
}
