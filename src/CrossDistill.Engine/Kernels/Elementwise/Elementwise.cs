namespace CrossDistill.Engine.Kernels;

/// <summary>
/// Runs operator structs over whole tensors: broadcasting, any strides, and an output that keeps
/// the inputs' dense layout (so channels-last stays channels-last through elementwise ops).
/// </summary>
public static unsafe class Elementwise
{
    /// <summary>Strides that view <paramref name="t"/> broadcast to <paramref name="shape"/> (0 on broadcast dims).</summary>
    public static int[] BroadcastStrides(Tensor t, int[] shape)
    {
        int lead = shape.Length - t.Rank;
        if (lead < 0) throw new ArgumentException($"Cannot broadcast {ShapeUtil.Format(t.Shape)} to {ShapeUtil.Format(shape)}.");
        var strides = new int[shape.Length];
        for (int i = lead; i < shape.Length; i++)
        {
            int own = t.Shape[i - lead];
            if (own == shape[i]) strides[i] = t.Strides[i - lead];
            else if (own == 1) strides[i] = 0;
            else throw new ArgumentException($"Cannot broadcast {ShapeUtil.Format(t.Shape)} to {ShapeUtil.Format(shape)}.");
        }
        return strides;
    }

    /// <summary>A fresh output of <paramref name="shape"/>, laid out like the first dense input of that shape.</summary>
    public static Tensor NewOutput(int[] shape, params Tensor[] inputs)
    {
        foreach (var t in inputs)
            if (t.Shape.AsSpan().SequenceEqual(shape) && t.IsDense)
                return Tensor.Empty((int[])shape.Clone(), Tensor.DenseStridesOf(t));
        return Tensor.Empty((int[])shape.Clone());
    }

    public static Tensor Map<TOp>(TOp op, Tensor x) where TOp : struct, IUnaryOperator
    {
        var y = NewOutput(x.Shape, x);
        MapInto(op, x, y);
        return y;
    }

    public static void MapInto<TOp>(TOp op, Tensor x, Tensor y) where TOp : struct, IUnaryOperator
    {
        if (x.Numel == 0) return;
        var xs = BroadcastStrides(x, y.Shape);
        if (x.IsDense && y.IsDense && xs.AsSpan().SequenceEqual(y.Strides))
        {
            ElementwiseLoops.Unary(op, x.DataPtr, y.DataPtr, y.Numel);
            return;
        }
        var layout = StridedLayout.Coalesce(y.Shape, y.Strides, xs);
        nint px = (nint)x.DataPtr, py = (nint)y.DataPtr;
        int inner = layout.InnerSize, ys1 = layout.InnerStride(0), xs1 = layout.InnerStride(1);
        Workers.For(layout.OuterCount, Math.Max(1, ElementwiseLoops.ParallelThreshold / Math.Max(inner, 1)), (start, end) =>
        {
            for (int r = start; r < end; r++)
            {
                float* yp = (float*)py + layout.RunOffset(0, r), xp = (float*)px + layout.RunOffset(1, r);
                if (ys1 == 1 && xs1 == 1) ElementwiseLoops.UnaryRange(op, xp, yp, inner);
                else ElementwiseLoops.UnaryStrided(op, xp, xs1, yp, ys1, inner);
            }
        });
    }

    public static Tensor Zip<TOp>(TOp op, Tensor a, Tensor b) where TOp : struct, IBinaryOperator
    {
        var z = NewOutput(ShapeUtil.Broadcast(a.Shape, b.Shape), a, b);
        ZipInto(op, a, b, z);
        return z;
    }

    public static void ZipInto<TOp>(TOp op, Tensor a, Tensor b, Tensor z) where TOp : struct, IBinaryOperator
    {
        if (z.Numel == 0) return;
        var aStrides = BroadcastStrides(a, z.Shape);
        var bStrides = BroadcastStrides(b, z.Shape);
        if (z.IsDense && aStrides.AsSpan().SequenceEqual(z.Strides) && bStrides.AsSpan().SequenceEqual(z.Strides))
        {
            ElementwiseLoops.Binary(op, a.DataPtr, b.DataPtr, z.DataPtr, z.Numel);
            return;
        }
        var layout = StridedLayout.Coalesce(z.Shape, z.Strides, aStrides, bStrides);
        nint pa = (nint)a.DataPtr, pb = (nint)b.DataPtr, pz = (nint)z.DataPtr;
        int inner = layout.InnerSize;
        int zs = layout.InnerStride(0), as1 = layout.InnerStride(1), bs1 = layout.InnerStride(2);
        Workers.For(layout.OuterCount, Math.Max(1, ElementwiseLoops.ParallelThreshold / Math.Max(inner, 1)), (start, end) =>
        {
            for (int r = start; r < end; r++)
            {
                float* zp = (float*)pz + layout.RunOffset(0, r);
                float* ap = (float*)pa + layout.RunOffset(1, r);
                float* bp = (float*)pb + layout.RunOffset(2, r);
                if (zs == 1 && as1 == 1 && bs1 == 1) ElementwiseLoops.BinaryRange(op, ap, bp, zp, inner);
                else if (zs == 1 && as1 == 1 && bs1 == 0) ElementwiseLoops.BinaryScalarRight(op, ap, *bp, zp, inner);
                else if (zs == 1 && as1 == 0 && bs1 == 1) ElementwiseLoops.BinaryScalarLeft(op, *ap, bp, zp, inner);
                else ElementwiseLoops.BinaryStrided(op, ap, as1, bp, bs1, zp, zs, inner);
            }
        });
    }
}
