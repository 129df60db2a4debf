using CrossDistill.Engine.Kernels;

namespace CrossDistill.Engine;

public static unsafe partial class F
{
    /// <summary>
    /// torch.nn.functional.cross_entropy on (N, C), (N, C, d1, …) or unbatched (C) logits, fused: each position's
    /// log-softmax and loss come from one kernel, and the backward writes softmax − target in one
    /// pass. <paramref name="target"/> is either int64 class indices of shape (N) or (N, d1, …), or
    /// float class probabilities of the logits' shape. As in PyTorch 1.13: label smoothing mixes the
    /// target with the uniform distribution (for indices, (1 − ε)·nll + ε/C·Σ_c w_c·(−log p_c));
    /// with indices, "mean" divides by the summed weights w[t] of the positions not ignored; with
    /// probabilities, "mean" divides by the number of positions and ignoreIndex must be negative.
    /// Logits with the classes innermost (row-major (N, C), channels-last) or NCHW are read as
    /// they are; other layouts are copied first.
    /// </summary>
    public static Tensor CrossEntropy(Tensor logits, Tensor target, float labelSmoothing = 0f, string reduction = "mean", int ignoreIndex = -100, Tensor? weight = null)
    {
        const string op = "CrossEntropy";
        var red = LossReductions.Parse(reduction, op);
        if (logits.Rank == 1)
        {
            // An unbatched (C) input: a batch of one, and a scalar per-position loss.
            var batched = CrossEntropy(logits.Unsqueeze(0), target.DType == DType.Float32 ? target.Unsqueeze(0) : target.Reshape(1),
                labelSmoothing, reduction, ignoreIndex, weight);
            return red == LossReduction.None ? batched.Reshape() : batched;
        }
        CheckClassInputs(op, logits, weight);
        if (!(labelSmoothing >= 0f && labelSmoothing <= 1f))
            throw new ArgumentException($"{op}: labelSmoothing must be in [0, 1], got {labelSmoothing}.", nameof(labelSmoothing));
        int c = logits.Shape[1];
        bool soft = target.DType == DType.Float32;
        if (soft)
        {
            if (!target.Shape.AsSpan().SequenceEqual(logits.Shape))
                throw new ArgumentException($"{op}: probability targets must have the logits' shape {ShapeUtil.Format(logits.Shape)}, got {ShapeUtil.Format(target.Shape)}.", nameof(target));
            if (ignoreIndex >= 0)
                throw new ArgumentException($"{op}: ignoreIndex ({ignoreIndex}) is not supported with probability targets.", nameof(ignoreIndex));
        }

        var work = AxisLayout.Prepare(logits, 1, out var layout, out bool copied);
        Tensor? index = null, softWork = null;
        bool targetCopied;
        if (soft) softWork = OperandLayout.MatchLayout(target, work, out targetCopied);
        else index = PrepareClassIndices(op, logits, target, ignoreIndex, out targetCopied);
        var weights = weight is null ? Torch.Ones(c) : OperandLayout.CopyContiguous(weight);
        float weightSum = (float)LossReductions.Sum(weights.DataPtr, c);

        // Rebuilt from the tensors whenever it is used, so the backward holds the tensors, not bare pointers.
        CrossEntropyProblem Problem() => new()
        {
            Logits = work.DataPtr,
            Index = index is null ? null : index.LongPtr,
            Soft = softWork is null ? null : softWork.DataPtr,
            Weight = weights.DataPtr,
            WeightSum = weightSum,
            Smoothing = labelSmoothing,
            IgnoreIndex = ignoreIndex,
            Layout = layout,
        };
        int positions = layout.Positions;
        var saved = Tensor.Empty(new[] { 2, positions });
        float* lse = saved.DataPtr, aux = lse + positions;
        var loss = red == LossReduction.None ? Tensor.Empty(ClassTargetShape(logits.Shape)) : Tensor.Empty(new[] { positions });
        CrossEntropyKernel.Forward(Problem(), lse, loss.DataPtr, aux);

        double denominator = red != LossReduction.Mean ? 1 : soft ? positions : LossReductions.Sum(aux, positions);
        Tensor result = loss;
        if (red != LossReduction.None)
        {
            result = Torch.Scalar((float)(LossReductions.Sum(loss.DataPtr, positions) / denominator));
            loss.Dispose();
        }

        if (!Autograd.ShouldRecord(logits, target))
        {
            saved.Dispose();
            weights.Dispose();
            if (copied) work.Dispose();
            if (targetCopied) (soft ? softWork! : index!).Dispose();
            return result;
        }
        return Autograd.Record(result, "CrossEntropyBackward", new[] { logits, target }, g =>
        {
            var strides = Tensor.DenseStridesOf(work);
            var dx = logits.RequiresGrad ? Tensor.Empty((int[])logits.Shape.Clone(), strides) : null;
            var dt = soft && target.RequiresGrad ? Tensor.Empty((int[])target.Shape.Clone(), strides) : null;
            float scalar = red == LossReduction.None ? 0f : (float)(g.Item() / denominator);
            var upstream = red == LossReduction.None && !g.IsContiguous ? OperandLayout.CopyContiguous(g) : g;
            float* scale = red == LossReduction.None ? upstream.DataPtr : &scalar;
            CrossEntropyKernel.Backward(Problem(), saved.DataPtr, saved.DataPtr + positions, scale, red == LossReduction.None ? 1 : 0,
                dx is null ? null : dx.DataPtr, dt is null ? null : dt.DataPtr);
            if (!ReferenceEquals(upstream, g)) upstream.Dispose();
            return new Tensor?[] { dx, dt };
        });
    }
}
