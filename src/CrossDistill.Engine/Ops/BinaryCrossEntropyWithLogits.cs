using CrossDistill.Engine.Kernels;

namespace CrossDistill.Engine;

public static unsafe partial class F
{
    /// <summary>
    /// torch.nn.functional.binary_cross_entropy_with_logits, in the overflow-free form:
    /// w·((1 − t)·x + (1 + (p − 1)·t)·log(1 + e^−x)). <paramref name="target"/> has the logits'
    /// shape; <paramref name="weight"/> and <paramref name="posWeight"/> broadcast to it (posWeight
    /// typically one entry per class along the last dim) and are constants. Gradients flow to the
    /// logits and to a target that requires grad.
    /// </summary>
    public static Tensor BinaryCrossEntropyWithLogits(Tensor logits, Tensor target, Tensor? weight = null, Tensor? posWeight = null, string reduction = "mean")
    {
        const string op = "BinaryCrossEntropyWithLogits";
        var red = LossReductions.Parse(reduction, op);
        if (logits.DType != DType.Float32 || target.DType != DType.Float32)
            throw new ArgumentException($"{op}: logits and target must be float32, got {logits.DType} and {target.DType}.", nameof(target));
        if (!target.Shape.AsSpan().SequenceEqual(logits.Shape))
            throw new ArgumentException($"{op}: target size {ShapeUtil.Format(target.Shape)} must be the same as the logits' {ShapeUtil.Format(logits.Shape)}.", nameof(target));
        CheckBroadcastConstant(op, nameof(weight), weight, logits);
        CheckBroadcastConstant(op, nameof(posWeight), posWeight, logits);

        var work = logits.IsDense ? logits : OperandLayout.CopyContiguous(logits);
        var targetWork = OperandLayout.MatchLayout(target, work, out bool targetCopied);
        int n = work.Numel;
        int last = work.Rank == 0 ? 1 : work.Shape[^1];
        // Weights that vary only along the last dim of a row-major tensor repeat with that period;
        // anything else is materialised at full size in the logits' layout.
        bool periodic = work.IsContiguous && IsLastDimVector(weight, last) && IsLastDimVector(posWeight, last);
        int period = periodic ? Math.Max(last, 1) : Math.Max(n, 1);
        var w = periodic ? PeriodVector(weight, last) : FullLike(weight, work);
        var p = periodic ? PeriodVector(posWeight, last) : FullLike(posWeight, work);

        Tensor result;
        double divisor = red == LossReduction.Mean ? n : 1;
        if (red == LossReduction.None)
        {
            result = Tensor.Empty((int[])work.Shape.Clone(), Tensor.DenseStridesOf(work));
            BceWithLogitsKernel.Map(work.DataPtr, targetWork.DataPtr, w.DataPtr, p.DataPtr, result.DataPtr, n, period);
        }
        else result = Torch.Scalar((float)(BceWithLogitsKernel.Sum(work.DataPtr, targetWork.DataPtr, w.DataPtr, p.DataPtr, n, period) / divisor));

        if (!Autograd.ShouldRecord(logits, target))
        {
            w.Dispose();
            p.Dispose();
            if (targetCopied) targetWork.Dispose();
            if (!ReferenceEquals(work, logits)) work.Dispose();
            return result;
        }
        return Autograd.Record(result, "BinaryCrossEntropyWithLogitsBackward", new[] { logits, target }, g =>
        {
            var strides = Tensor.DenseStridesOf(work);
            var dx = logits.RequiresGrad ? Tensor.Empty((int[])logits.Shape.Clone(), strides) : null;
            var dt = target.RequiresGrad ? Tensor.Empty((int[])target.Shape.Clone(), strides) : null;
            float scalar = red == LossReduction.None ? 0f : (float)(g.Item() / divisor);
            var upstream = red == LossReduction.None ? OperandLayout.MatchLayout(g, work, out _) : g;
            float* scale = red == LossReduction.None ? upstream.DataPtr : &scalar;
            BceWithLogitsKernel.Grad(work.DataPtr, targetWork.DataPtr, w.DataPtr, p.DataPtr, scale, red == LossReduction.None ? 1 : 0,
                dx is null ? null : dx.DataPtr, dt is null ? null : dt.DataPtr, n, period);
            if (!ReferenceEquals(upstream, g)) upstream.Dispose();
            return new Tensor?[] { dx, dt };
        });
    }

    private static void CheckBroadcastConstant(string op, string name, Tensor? t, Tensor like)
    {
        if (t is null) return;
        if (t.DType != DType.Float32) throw new ArgumentException($"{op}: {name} must be float32, got {t.DType}.", name);
        bool fits = t.Rank <= like.Rank;
        for (int i = 0; fits && i < t.Rank; i++)
        {
            int own = t.Shape[t.Rank - 1 - i], other = like.Shape[like.Rank - 1 - i];
            fits = own == other || own == 1;
        }
        if (!fits) throw new ArgumentException($"{op}: {name} of shape {ShapeUtil.Format(t.Shape)} does not broadcast to the logits' shape {ShapeUtil.Format(like.Shape)}.", name);
        if (t.RequiresGrad && GradMode.IsEnabled)
            throw new ArgumentException($"{op}: the loss is not differentiable with respect to {name}; pass a tensor that does not require grad.", name);
    }

    /// <summary>True for null, or a tensor whose only non-1 dim is its last one, of size <paramref name="length"/>.</summary>
    private static bool IsLastDimVector(Tensor? t, int length)
    {
        if (t is null || t.Numel == 1) return true;
        for (int i = 0; i < t.Rank - 1; i++) if (t.Shape[i] != 1) return false;
        return t.Rank > 0 && t.Shape[^1] == length;
    }

    /// <summary>A row-major vector of <paramref name="length"/> holding t broadcast along it, or ones.</summary>
    private static Tensor PeriodVector(Tensor? t, int length)
    {
        if (t is null) return Torch.Ones(Math.Max(length, 1));
        var vector = Tensor.Empty(new[] { Math.Max(length, 1) });
        using var detached = t.Detach();
        using var flat = OperandLayout.CopyContiguous(detached);
        using var row = flat.View(t.Numel);
        vector.CopyFrom(row);
        return vector;
    }

    /// <summary>t broadcast to <paramref name="like"/>'s shape and dense layout, or ones.</summary>
    private static Tensor FullLike(Tensor? t, Tensor like)
    {
        if (t is null) return Torch.FullLike(like, 1f);
        return OperandLayout.CopyLike(t, like);
    }
}
