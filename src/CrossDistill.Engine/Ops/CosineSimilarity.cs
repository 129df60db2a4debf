using CrossDistill.Engine.Kernels;

namespace CrossDistill.Engine;

public static unsafe partial class F
{
    /// <summary>
    /// torch.nn.functional.cosine_similarity: Σab / (max(‖a‖, eps)·max(‖b‖, eps)) along
    /// <paramref name="dim"/> of a and b broadcast together; the result drops that dim. As in PyTorch
    /// 1.13 the clamp is not differentiated. Operands with the dim innermost (channels-last features
    /// along C, row-major rows) or row-major are read as they are; others are copied first.
    /// </summary>
    public static Tensor CosineSimilarity(Tensor a, Tensor b, int dim = 1, float eps = 1e-8f)
    {
        const string op = "CosineSimilarity";
        if (a.DType != DType.Float32 || b.DType != DType.Float32)
            throw new ArgumentException($"{op}: a and b must be float32, got {a.DType} and {b.DType}.", nameof(b));
        int[] shape;
        try { shape = ShapeUtil.Broadcast(a.Shape, b.Shape); }
        catch (ArgumentException e) { throw new ArgumentException($"{op}: a {ShapeUtil.Format(a.Shape)} and b {ShapeUtil.Format(b.Shape)} do not broadcast.", nameof(b), e); }
        if (shape.Length == 0) throw new ArgumentException($"{op}: needs at least one dim, got scalars.", nameof(a));
        int d;
        try { d = ShapeUtil.NormalizeDim(dim, shape.Length); }
        catch (ArgumentOutOfRangeException) { throw new ArgumentException($"{op}: dim {dim} is out of range for broadcast shape {ShapeUtil.Format(shape)}.", nameof(dim)); }

        // Broadcast operands are materialised; then b follows a's layout.
        var aFull = a.Shape.AsSpan().SequenceEqual(shape) ? a : OperandLayout.CopyBroadcast(a, shape);
        var aWork = AxisLayout.Prepare(aFull, d, out var layout, out _);
        bool aOwned = !ReferenceEquals(aWork, a);
        var bWork = OperandLayout.MatchLayout(b, aWork, out bool bOwned);

        int positions = layout.Positions;
        var outputShape = shape.Where((_, i) => i != d).ToArray();
        var result = Tensor.Empty(outputShape);
        var saved = Tensor.Empty(new[] { 3, positions });
        CosineSimilarityKernel.Forward(aWork.DataPtr, bWork.DataPtr, layout, eps, result.DataPtr, saved.DataPtr);

        if (!Autograd.ShouldRecord(a, b))
        {
            saved.Dispose();
            if (aOwned) aWork.Dispose();
            if (bOwned) bWork.Dispose();
            return result;
        }
        return Autograd.Record(result, "CosineSimilarityBackward", new[] { a, b }, g =>
        {
            var strides = Tensor.DenseStridesOf(aWork);
            var da = a.RequiresGrad ? Tensor.Empty((int[])shape.Clone(), strides) : null;
            var db = b.RequiresGrad ? Tensor.Empty((int[])shape.Clone(), strides) : null;
            var upstream = g.IsContiguous ? g : OperandLayout.CopyContiguous(g);
            CosineSimilarityKernel.Backward(aWork.DataPtr, bWork.DataPtr, layout, saved.DataPtr, upstream.DataPtr, 1,
                da is null ? null : da.DataPtr, db is null ? null : db.DataPtr);
            if (!ReferenceEquals(upstream, g)) upstream.Dispose();
            return new[] { Reduced(da, a.Shape), Reduced(db, b.Shape) };
        });
    }

    /// <summary>Sums a broadcast gradient back to an operand's shape.</summary>
    private static Tensor? Reduced(Tensor? grad, int[] shape)
    {
        if (grad is null) return null;
        var reduced = grad.SumTo(shape);
        if (!ReferenceEquals(reduced, grad)) grad.Dispose();
        return reduced;
    }
}
