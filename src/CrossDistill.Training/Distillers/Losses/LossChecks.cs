using CrossDistill.Engine;

namespace CrossDistill.Training.Distillers.Losses;

/// <summary>Argument checks shared by the logit losses, so every loss reports bad shapes the same way.</summary>
internal static class LossChecks
{
    public static void Logits(string loss, Tensor student, Tensor teacher)
    {
        if (student.Rank != 2 || !student.Shape.AsSpan().SequenceEqual(teacher.Shape))
            throw new ArgumentException($"{loss}: student and teacher logits must both be (N, C) of the same shape, got {ShapeUtil.Format(student.Shape)} and {ShapeUtil.Format(teacher.Shape)}.");
        if (student.Shape[0] == 0 || student.Shape[1] == 0)
            throw new ArgumentException($"{loss}: logits of shape {ShapeUtil.Format(student.Shape)} are empty.");
    }

    public static void Temperature(string loss, float temperature)
    {
        if (!(temperature > 0f) || !float.IsFinite(temperature))
            throw new ArgumentException($"{loss}: the temperature must be positive and finite, got {temperature}.", nameof(temperature));
    }

    public static void Labels(string loss, Tensor labels, Tensor logits)
    {
        if (labels.DType != DType.Int64 || labels.Rank != 1 || labels.Shape[0] != logits.Shape[0])
            throw new ArgumentException($"{loss}: labels must be int64 of shape ({logits.Shape[0]}), got {labels.DType} {ShapeUtil.Format(labels.Shape)} for logits {ShapeUtil.Format(logits.Shape)}.");
    }
}
