using CrossDistill.Engine;

namespace CrossDistill.Training.Distillers.Losses;

/// <summary>
/// Decoupled knowledge distillation (Zhao et al., CVPR 2022), as mdistiller's dkd_loss: the KL
/// between teacher and student split into the target-class part (TCKD: binary [p_gt, 1 − p_gt])
/// and the non-target part (NCKD: the softmax over the other classes, the target logit pushed
/// down by 1000 so that its probability is exactly 0), each at temperature T, scaled by T² and
/// averaged over the batch.
/// </summary>
public static class DkdLoss
{
    /// <summary>The gt-logit offset of the NCKD softmaxes: large enough that exp underflows to 0 in float32.</summary>
    public const float TargetSuppression = 1000f;

    /// <summary>α·TCKD + β·NCKD.</summary>
    public static Tensor Compute(Tensor studentLogits, Tensor teacherLogits, Tensor labels, float alpha, float beta, float temperature)
    {
        var (tckd, nckd) = Terms(studentLogits, teacherLogits, labels, temperature);
        return tckd * alpha + nckd * beta;
    }

    /// <summary>TCKD and NCKD, each T²·KL(teacher ‖ student) averaged over the batch.</summary>
    public static (Tensor Tckd, Tensor Nckd) Terms(Tensor studentLogits, Tensor teacherLogits, Tensor labels, float temperature)
    {
        const string name = "DkdLoss";
        LossChecks.Logits(name, studentLogits, teacherLogits);
        LossChecks.Labels(name, labels, studentLogits);
        LossChecks.Temperature(name, temperature);
        int classes = studentLogits.Shape[1];
        float t2 = temperature * temperature;

        var gtMask = F.OneHot(labels, classes);
        var otherMask = 1f - gtMask;
        var scaledStudent = studentLogits / temperature;
        var scaledTeacher = teacherLogits / temperature;

        // Binary target/non-target distributions. The student side is the log of summed
        // probabilities (not a log-softmax), exactly as the reference computes it.
        var studentBinary = Binary(F.Softmax(scaledStudent, 1), gtMask, otherMask);
        var teacherBinary = Binary(F.Softmax(scaledTeacher, 1), gtMask, otherMask);
        var tckd = F.KlDiv(Torch.Log(studentBinary), teacherBinary, reduction: "batchmean") * t2;

        var suppression = gtMask * TargetSuppression;
        var teacherNonTarget = F.Softmax(scaledTeacher - suppression, 1);
        var studentNonTarget = F.LogSoftmax(scaledStudent - suppression, 1);
        var nckd = F.KlDiv(studentNonTarget, teacherNonTarget, reduction: "batchmean") * t2;
        return (tckd, nckd);
    }

    private static Tensor Binary(Tensor probabilities, Tensor gtMask, Tensor otherMask)
        => Torch.Cat(new[] { Torch.Sum(probabilities * gtMask, 1, keepDim: true), Torch.Sum(probabilities * otherMask, 1, keepDim: true) }, 1);
}
