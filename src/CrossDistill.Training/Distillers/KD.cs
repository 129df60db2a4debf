using CrossDistill.Engine;
using CrossDistill.Training.Config;

namespace CrossDistill.Training.Distillers;

/// <summary>Hinton et al. (2015): ce_weight·CE(student, target) + alpha·T²·KL(softmax(teacher/T) ‖ softmax(student/T)).</summary>
[Distiller("kd", "Hinton et al. 2015: cross-entropy plus the temperature-softened KL to the teacher's logits (T² scaled).", Teachers = 1)]
public sealed class KD : Distiller
{
    public sealed class Params
    {
        [ConfigDoc("Softmax temperature T of both logits; the KL term is multiplied by T².")]
        [ConfigRange(0.01, 100)] public float Temperature { get; set; } = 4f;

        [ConfigDoc("Weight of the KL term.")]
        [ConfigRange(0, 1000)] public float Alpha { get; set; } = 1f;

        [ConfigDoc("Weight of the cross-entropy term.")]
        [ConfigRange(0, 1000)] public float CeWeight { get; set; } = 1f;
    }

    private readonly Params _p;

    public KD(DistillerSetup setup, Params p) : base(setup)
    {
        if (setup.Teachers.Count != 1) throw new ArgumentException($"kd: needs exactly one teacher, got {setup.Teachers.Count}.");
        _p = p;
    }

    public override DistillOutput ForwardTrain(DistillBatch batch, StepContext context)
    {
        var logits = Student.Forward(batch.Images);
        var teacherLogits = TeacherForward(batch.Images).Logits;
        return new DistillOutput(logits, new Dictionary<string, Tensor>
        {
            ["loss_ce"] = CrossEntropy(logits, batch) * _p.CeWeight,
            ["loss_kl"] = KdLoss(logits, teacherLogits, _p.Temperature) * _p.Alpha,
        });
    }

    /// <summary>T²·KL(softmax(t/T) ‖ softmax(s/T)), summed over classes and averaged over the batch: the soft-target loss KD-style methods share.</summary>
    public static Tensor KdLoss(Tensor studentLogits, Tensor teacherLogits, float temperature)
    {
        var logP = F.LogSoftmax(studentLogits / temperature, 1);
        var logQ = F.LogSoftmax(teacherLogits / temperature, 1);
        return F.KlDiv(logP, logQ, reduction: "batchmean", logTarget: true) * (temperature * temperature);
    }
}
