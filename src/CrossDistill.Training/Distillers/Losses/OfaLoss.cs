using CrossDistill.Engine;

namespace CrossDistill.Training.Distillers.Losses;

/// <summary>
/// OFA-KD's loss (Hao et al., NeurIPS 2023) with adaptive target enhancement: the cross-entropy of
/// the student against the weights w = (p_t + m)^ε − m, where p_t = softmax(z_t/T) and m is the
/// one-hot target mask: the target class weighs (1 + p_t,y)^ε − 1, every other class p_t,c^ε.
/// ε = 1 is plain soft-label cross-entropy; ε &gt; 1 strengthens the target class. Batch mean, no T².
/// The official code takes log(softmax); a log-softmax is used here, the same value without
/// overflowing to −∞ when a probability underflows.
/// </summary>
public static class OfaLoss
{
    public static Tensor Compute(Tensor studentLogits, Tensor teacherLogits, Tensor targetMask, float eps, float temperature)
    {
        const string name = "OfaLoss";
        LossChecks.Logits(name, studentLogits, teacherLogits);
        LossChecks.Temperature(name, temperature);
        if (!targetMask.Shape.AsSpan().SequenceEqual(studentLogits.Shape))
            throw new ArgumentException($"{name}: the target mask {ShapeUtil.Format(targetMask.Shape)} must have the logits' shape {ShapeUtil.Format(studentLogits.Shape)}.", nameof(targetMask));
        if (!(eps > 0f) || !float.IsFinite(eps))
            throw new ArgumentException($"{name}: eps must be positive and finite, got {eps}.", nameof(eps));
        var logStudent = F.LogSoftmax(studentLogits / temperature, 1);
        var teacher = F.Softmax(teacherLogits / temperature, 1);
        var weights = Torch.Pow(teacher + targetMask, eps) - targetMask;
        return -(Torch.Sum(weights * logStudent) / studentLogits.Shape[0]);
    }

    /// <summary>The one-hot mask m of <paramref name="labels"/> (int64, (N)).</summary>
    public static Tensor TargetMask(Tensor labels, int numClasses) => F.OneHot(labels, numClasses);
}
