using CrossDistill.Engine.Kernels;

namespace CrossDistill.Engine;

public static unsafe partial class F
{
    /// <summary>
    /// torch.nn.functional.nll_loss: −w[t]·logProbs[t] for (N, C), (N, C, d1, …) or unbatched (C)
    /// log-probabilities and int64 class indices of shape (N), (N, d1, …) or (). Positions whose target is
    /// <paramref name="ignoreIndex"/> contribute nothing; "mean" divides by the summed weights of
    /// the other positions.
    /// </summary>
    public static Tensor NllLoss(Tensor logProbs, Tensor target, string reduction = "mean", int ignoreIndex = -100, Tensor? weight = null)
    {
        const string op = "NllLoss";
        var red = LossReductions.Parse(reduction, op);
        if (logProbs.Rank == 1)
        {
            // An unbatched (C) input: a batch of one, and a scalar per-position loss.
            var batched = NllLoss(logProbs.Unsqueeze(0), target.Reshape(1), reduction, ignoreIndex, weight);
            return red == LossReduction.None ? batched.Reshape() : batched;
        }
        CheckClassInputs(op, logProbs, weight);
        int c = logProbs.Shape[1];
        var index = PrepareClassIndices(op, logProbs, target, ignoreIndex, out bool indexCopied);
        var work = AxisLayout.Prepare(logProbs, 1, out var layout, out bool copied);
        var w = weight is null ? null : weight.IsContiguous ? weight : OperandLayout.CopyContiguous(weight);
        int positions = layout.Positions;

        var outputShape = ClassTargetShape(logProbs.Shape);
        var loss = red == LossReduction.None ? Tensor.Empty(outputShape) : Tensor.Empty(new[] { positions });
        var aux = Tensor.Empty(new[] { positions });
        NllLossKernel.Forward(work.DataPtr, layout, index.LongPtr, w is null ? null : w.DataPtr, ignoreIndex, loss.DataPtr, aux.DataPtr);
        double denominator = red == LossReduction.Mean ? LossReductions.Sum(aux.DataPtr, positions) : 1;
        aux.Dispose();
        Tensor result = loss;
        if (red != LossReduction.None)
        {
            result = Torch.Scalar((float)(LossReductions.Sum(loss.DataPtr, positions) / denominator));
            loss.Dispose();
        }

        if (!Autograd.ShouldRecord(logProbs))
        {
            if (copied) work.Dispose();
            if (indexCopied) index.Dispose();
            if (w is not null && !ReferenceEquals(w, weight)) w.Dispose();
            return result;
        }
        var gradStrides = Tensor.DenseStridesOf(work);
        if (copied) work.Dispose();
        return Autograd.Record(result, "NllLossBackward", new[] { logProbs }, g =>
        {
            var dx = Tensor.Empty((int[])logProbs.Shape.Clone(), gradStrides, zero: true);
            float scalar = red == LossReduction.None ? 0f : (float)(g.Item() / denominator);
            var upstream = red == LossReduction.None && !g.IsContiguous ? OperandLayout.CopyContiguous(g) : g;
            float* scale = red == LossReduction.None ? upstream.DataPtr : &scalar;
            NllLossKernel.Backward(layout, index.LongPtr, w is null ? null : w.DataPtr, ignoreIndex, scale, red == LossReduction.None ? 1 : 0, dx.DataPtr);
            if (!ReferenceEquals(upstream, g)) upstream.Dispose();
            return new Tensor?[] { dx };
        });
    }

    /// <summary>Checks float (N, C, …) scores and an optional constant class-weight vector.</summary>
    internal static void CheckClassInputs(string op, Tensor scores, Tensor? weight)
    {
        if (scores.DType != DType.Float32) throw new ArgumentException($"{op}: the input must be float32, got {scores.DType}.", "input");
        if (scores.Rank < 2) throw new ArgumentException($"{op}: the input must be (N, C) or (N, C, d1, ...), got shape {ShapeUtil.Format(scores.Shape)}.", "input");
        CheckChannelVector(op, nameof(weight), weight, scores.Shape[1], scores);
        if (weight is not null && weight.RequiresGrad && GradMode.IsEnabled)
            throw new ArgumentException($"{op}: the loss is not differentiable with respect to weight; pass a tensor that does not require grad.", nameof(weight));
    }

    /// <summary>(N, d1, …): the scores' shape without the class dim.</summary>
    internal static int[] ClassTargetShape(int[] scoresShape) => scoresShape.Where((_, i) => i != 1).ToArray();

    /// <summary>
    /// Checks int64 class indices against (N, C, …) scores (shape, and each value in [0, C) or the
    /// ignore index) and returns them row-major (a copy when <paramref name="copied"/>).
    /// </summary>
    internal static Tensor PrepareClassIndices(string op, Tensor scores, Tensor target, int ignoreIndex, out bool copied)
    {
        if (target.DType != DType.Int64)
            throw new ArgumentException($"{op}: class-index targets must be int64, got {target.DType}.", nameof(target));
        var expected = ClassTargetShape(scores.Shape);
        if (!target.Shape.AsSpan().SequenceEqual(expected))
            throw new ArgumentException($"{op}: target of shape {ShapeUtil.Format(target.Shape)} does not match input {ShapeUtil.Format(scores.Shape)}; expected {ShapeUtil.Format(expected)}.", nameof(target));
        copied = !target.IsContiguous;
        var index = copied ? OperandLayout.CopyContiguous(target) : target;
        int c = scores.Shape[1];
        var values = index.LongSpan;
        for (int i = 0; i < values.Length; i++)
        {
            long t = values[i];
            if (t != ignoreIndex && (t < 0 || t >= c))
            {
                if (copied) index.Dispose();
                throw new ArgumentException($"{op}: target {t} at flat position {i} is out of range for {c} classes.", nameof(target));
            }
        }
        return index;
    }
}
