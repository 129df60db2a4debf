namespace CrossDistill.Engine.Kernels;

/// <summary>Where the reduced elements of each output lie in a dense source.</summary>
public enum ReductionForm
{
    /// <summary>Output r reduces source[r·Length .. (r+1)·Length): the reduced dims are innermost.</summary>
    Rows,

    /// <summary>Output c reduces source[i·Outputs + c] over i: the reduced dims are outermost.</summary>
    Columns,
}

/// <summary>
/// How a fused reduction kernel (variance, logsumexp) reads its input: the input itself when the
/// reduced dims sit innermost (or, if allowed, outermost) in memory, in any dense layout
/// (channels-last, transposed), else a row-major copy with the reduced dims moved last. Outputs
/// come out in the memory order of the kept dims; <see cref="KeepStrides"/> describes it.
/// </summary>
public sealed unsafe class ReductionPlan : IDisposable
{
    private readonly Tensor? _copy;

    private ReductionPlan(Tensor source, Tensor? copy, ReductionForm form, int outputs, int length, int[] keepShape, int[] keepStrides)
    {
        Source = source;
        _copy = copy;
        Form = form;
        Outputs = outputs;
        Length = length;
        KeepShape = keepShape;
        KeepStrides = keepStrides;
    }

    /// <summary>The dense tensor the kernel reads: the input or a private copy of it.</summary>
    public Tensor Source { get; }
    public ReductionForm Form { get; }
    public int Outputs { get; }
    public int Length { get; }

    /// <summary>The output shape with reduced dims kept as size 1.</summary>
    public int[] KeepShape { get; }

    /// <summary>Dense strides for <see cref="KeepShape"/> matching the order outputs are produced in.</summary>
    public int[] KeepStrides { get; }

    public float* Data => Source.DataPtr;

    /// <summary>A new uninitialised output tensor laid out as the kernel writes it.</summary>
    public Tensor NewOutput() => Tensor.Empty((int[])KeepShape.Clone(), (int[])KeepStrides.Clone());

    public static ReductionPlan Create(Tensor x, bool[] reduced, bool allowColumns)
    {
        var keepShape = Reduction.OutputShape(x.Shape, reduced, keepDim: true);
        int length = 1, outputs = 1;
        for (int d = 0; d < x.Rank; d++)
            if (reduced[d]) length *= x.Shape[d];
            else outputs *= x.Shape[d];

        if (x.IsDense)
        {
            // Memory order of the dims that matter (size-1 dims can sit anywhere).
            var order = Reduction.PhysicalOrder(x);
            var significant = order.Where(d => x.Shape[d] > 1).ToArray();
            int reducedCount = significant.Count(d => reduced[d]);
            bool rows = significant.Skip(significant.Length - reducedCount).All(d => reduced[d]);
            bool columns = allowColumns && significant.Take(reducedCount).All(d => reduced[d]);
            if (rows || columns)
            {
                var source = x.Detach();
                return new ReductionPlan(source, null, rows ? ReductionForm.Rows : ReductionForm.Columns, outputs, length, keepShape, DenseStrides(keepShape, order));
            }
        }

        var perm = Enumerable.Range(0, x.Rank).Where(d => !reduced[d]).Concat(Enumerable.Range(0, x.Rank).Where(d => reduced[d])).ToArray();
        using var detached = x.Detach();
        using var permuted = detached.Permute(perm);
        var copy = permuted.Contiguous();
        return new ReductionPlan(copy, copy, ReductionForm.Rows, outputs, length, keepShape, ShapeUtil.ContiguousStrides(keepShape));
    }

    /// <summary>Row-major strides for <paramref name="shape"/> taken in the dim order <paramref name="order"/> (outermost first).</summary>
    internal static int[] DenseStrides(int[] shape, int[] order)
    {
        var strides = new int[shape.Length];
        int s = 1;
        for (int i = order.Length - 1; i >= 0; i--)
        {
            strides[order[i]] = s;
            s *= Math.Max(shape[order[i]], 1);
        }
        return strides;
    }

    public void Dispose()
    {
        if (_copy is null) Source.Dispose();
        else _copy.Dispose();
    }
}

/// <summary>
/// A dense tensor seen as [Outer, Size, Inner] around one dim in memory order: element (o, j, i)
/// sits at o·Size·Inner + j·Inner + i from the data pointer. Any dense layout works (contiguous,
/// channels-last, transposed), so kernels along a dim never need a copy of a dense input.
/// </summary>
public readonly struct DimSlices
{
    public readonly int Outer, Size, Inner;

    /// <summary>Canonical dense strides of the tensor.</summary>
    public readonly int[] Strides;

    /// <summary>Dense strides of the tensor with <see cref="Dim"/> shrunk to size 1, in the same memory order.</summary>
    public readonly int[] KeepStrides;

    public readonly int Dim;

    private DimSlices(int outer, int size, int inner, int[] strides, int[] keepStrides, int dim)
    {
        Outer = outer;
        Size = size;
        Inner = inner;
        Strides = strides;
        KeepStrides = keepStrides;
        Dim = dim;
    }

    public static DimSlices Of(Tensor dense, int dim)
    {
        if (!dense.IsDense) throw new ArgumentException("DimSlices needs a dense tensor.", nameof(dense));
        int d = ShapeUtil.NormalizeDim(dim, dense.Rank);
        if (dense.Rank == 0) return new DimSlices(1, 1, 1, Array.Empty<int>(), Array.Empty<int>(), 0);
        var strides = Tensor.DenseStridesOf(dense);
        int size = dense.Shape[d], inner = strides[d];
        int outer = size == 0 || inner == 0 ? 0 : dense.Numel / (size * inner);
        var keep = new int[strides.Length];
        for (int k = 0; k < strides.Length; k++) keep[k] = strides[k] > inner && k != d ? strides[k] / Math.Max(size, 1) : strides[k];
        keep[d] = inner;
        return new DimSlices(outer, size, inner, strides, keep, d);
    }
}

/// <summary>Handles on tensor data in the dense layouts kernels expect; all unrecorded.</summary>
public static class DenseLayout
{
    /// <summary>A new handle on x's data when x is dense (any dim order), else on a row-major copy.</summary>
    public static Tensor Handle(Tensor x)
    {
        if (x.IsDense) return x.Detach();
        using var detached = x.Detach();
        return detached.Contiguous();
    }

    /// <summary>A new handle on t's data when it already has the dense layout <paramref name="strides"/> (size-1 dims aside), else a copy in that layout.</summary>
    public static Tensor Conform(Tensor t, int[] shape, int[] strides)
    {
        bool same = t.IsDense;
        for (int k = 0; same && k < shape.Length; k++)
            if (shape[k] != 1 && t.Strides[k] != strides[k]) same = false;
        if (same) return t.Detach();
        var copy = Tensor.Empty((int[])shape.Clone(), (int[])strides.Clone());
        StridedCopy.Copy(t, copy);
        return copy;
    }
}
