using CrossDistill.Engine;
using CrossDistill.Models;
using CrossDistill.Training.Config;

namespace CrossDistill.Training.Distillers;

/// <summary>Hinton et al.'s knowledge distillation: CE + α·T²·KL(teacher_T ‖ student_T).</summary>
public sealed class KD : Distiller
{
    public sealed class Params
    {
        [ConfigDoc("Softmax temperature T.")]
        [ConfigRange(0.01, 100)] public float Temperature { get; set; } = 4f;

        [ConfigDoc("Weight of the KL term.")]
        [ConfigRange(0, 1000)] public float Alpha { get; set; } = 1f;

        [ConfigDoc("Weight of the cross-entropy term.")]
        [ConfigRange(0, 1000)] public float CeWeight { get; set; } = 1f;
    }

    private readonly Params _p;
    private readonly float _labelSmoothing;

    public KD(VisionModel student, VisionModel teacher, Params p, float labelSmoothing) : base(student, new[] { teacher })
    {
        _p = p;
        _labelSmoothing = labelSmoothing;
    }

    public override DistillOutput ForwardTrain(DistillBatch batch, StepContext context)
    {
        var logits = Student.Forward(batch.Images);
        var teacherLogits = TeacherForward(batch.Images).Logits;
        return new DistillOutput(logits, new Dictionary<string, Tensor>
        {
            ["loss_ce"] = CrossEntropy(logits, batch, _labelSmoothing) * _p.CeWeight,
            ["loss_kl"] = KdLoss(logits, teacherLogits, _p.Temperature) * _p.Alpha,
        });
    }

    /// <summary>T²·KL(softmax(t/T) ‖ softmax(s/T)), batch-mean: the soft-target loss shared by KD-style methods.</summary>
    public static Tensor KdLoss(Tensor studentLogits, Tensor teacherLogits, float temperature)
    {
        var logP = F.LogSoftmax(studentLogits / temperature, 1);
        var logQ = F.LogSoftmax(teacherLogits / temperature, 1);
        return F.KlDiv(logP, logQ, reduction: "batchmean", logTarget: true) * (temperature * temperature);
    }
}
