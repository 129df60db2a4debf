using CrossDistill.Engine.Kernels;

namespace CrossDistill.Engine;

public static partial class Torch
{
    /// <summary>Sum over <paramref name="dims"/> (all dims when null or empty).</summary>
    public static Tensor Sum(Tensor x, int[]? dims = null, bool keepDim = false)
    {
        var mask = Reduction.ReducedMask(x.Rank, dims);
        var result = Reduction.Reduce(new SumReduce(), x, mask, keepDim);
        if (!Autograd.ShouldRecord(x)) return result;
        var keepShape = Reduction.OutputShape(x.Shape, mask, keepDim: true);
        var inputShape = x.Shape;
        return Autograd.Record(result, "SumBackward", new[] { x }, g => new[] { g.Reshape(keepShape).Expand(inputShape) });
    }

    public static Tensor Sum(Tensor x, int dim, bool keepDim = false) => Sum(x, new[] { dim }, keepDim);

    /// <summary>Mean over <paramref name="dims"/> (all dims when null or empty).</summary>
    public static Tensor Mean(Tensor x, int[]? dims = null, bool keepDim = false)
    {
        var mask = Reduction.ReducedMask(x.Rank, dims);
        int count = 1;
        for (int i = 0; i < x.Rank; i++) if (mask[i]) count *= x.Shape[i];
        return Mul(Sum(x, dims, keepDim), count == 0 ? float.NaN : 1f / count);
    }

    public static Tensor Mean(Tensor x, int dim, bool keepDim = false) => Mean(x, new[] { dim }, keepDim);
}

public sealed partial class Tensor
{
    public Tensor Sum(int[]? dims = null, bool keepDim = false) => Torch.Sum(this, dims, keepDim);
    public Tensor Sum(int dim, bool keepDim = false) => Torch.Sum(this, dim, keepDim);
    public Tensor Mean(int[]? dims = null, bool keepDim = false) => Torch.Mean(this, dims, keepDim);
    public Tensor Mean(int dim, bool keepDim = false) => Torch.Mean(this, dim, keepDim);

    /// <summary>Sums this tensor down to <paramref name="shape"/>, undoing a broadcast (for gradients).</summary>
    public Tensor SumTo(int[] shape)
    {
        if (Shape.AsSpan().SequenceEqual(shape)) return this;
        int lead = Rank - shape.Length;
        if (lead < 0) throw new ArgumentException($"Cannot sum {ShapeUtil.Format(Shape)} down to {ShapeUtil.Format(shape)}.");
        var dims = new List<int>();
        for (int i = 0; i < Rank; i++)
            if (i < lead || (shape[i - lead] == 1 && Shape[i] != 1)) dims.Add(i);
        var summed = dims.Count == 0 ? this : Torch.Sum(this, dims.ToArray(), keepDim: true);
        return summed.Reshape(shape);
    }
}
