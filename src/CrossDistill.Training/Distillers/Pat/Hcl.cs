using CrossDistill.Engine;

namespace CrossDistill.Training.Distillers.PatModules;

/// <summary>
/// ReviewKD's hierarchical context loss, PAT's feature distance (research notes §1.4): the mean
/// squared error of the full maps plus, for the pyramid levels l = 4, 2, 1 that are smaller than
/// the map's height, the MSE of both maps average-pooled to l×l (PyTorch's adaptive bins), weighted
/// 1, ½, ¼, ⅛ in turn over the levels used and divided by the sum of the weights.
/// </summary>
public static class Hcl
{
    private static readonly int[] Levels = { 4, 2, 1 };

    /// <summary>HCL between two (N, C, H, W) maps of the same shape.</summary>
    public static Tensor Loss(Tensor student, Tensor teacher)
    {
        ArgumentNullException.ThrowIfNull(student);
        ArgumentNullException.ThrowIfNull(teacher);
        if (student.Rank != 4 || !student.Shape.AsSpan().SequenceEqual(teacher.Shape))
            throw new ArgumentException($"Hcl.Loss: expected two (N, C, H, W) maps of the same shape, got student {ShapeUtil.Format(student.Shape)} and teacher {ShapeUtil.Format(teacher.Shape)}.");
        int height = student.Shape[2];
        var loss = F.MseLoss(student, teacher);
        float weight = 1f, total = 1f;
        foreach (int level in Levels)
        {
            if (level >= height) continue;
            weight /= 2f;
            var pooled = F.MseLoss(F.AdaptiveAvgPool2d(student, level), F.AdaptiveAvgPool2d(teacher, level));
            loss += pooled * weight;
            total += weight;
        }
        return loss / total;
    }

    /// <summary>The per-stage losses summed, as ReviewKD and PAT do.</summary>
    public static Tensor Loss(IReadOnlyList<Tensor> students, IReadOnlyList<Tensor> teachers)
    {
        ArgumentNullException.ThrowIfNull(students);
        ArgumentNullException.ThrowIfNull(teachers);
        if (students.Count != teachers.Count || students.Count == 0)
            throw new ArgumentException($"Hcl.Loss: expected as many student as teacher maps (at least one), got {students.Count} and {teachers.Count}.");
        var sum = Loss(students[0], teachers[0]);
        for (int i = 1; i < students.Count; i++) sum += Loss(students[i], teachers[i]);
        return sum;
    }
}
