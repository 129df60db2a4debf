using CrossDistill.Engine;
using CrossDistill.Models;
using CrossDistill.Training.Config;
using CrossDistill.Training.Distillers.Losses;

namespace CrossDistill.Training.Distillers;

/// <summary>
/// DIST (Huang et al., NeurIPS 2022): CE + w·τ²·(β·inter-class + γ·intra-class relation loss).
/// Defaults are those of the OFA-KD and torchdistill code (β = γ = τ = 1, w = 1); the official
/// CIFAR recipe uses τ = 4 and w = 2, ImageNet τ = 1 and w = 2.
/// </summary>
[Distiller("dist", "Huang et al. 2022: inter- and intra-class Pearson-correlation relations between student and teacher predictions.", Teachers = 1)]
public sealed class DIST : Distiller
{
    public sealed class Params
    {
        [ConfigDoc("Weight β of the inter-class relation (per sample, across classes).")]
        [ConfigRange(0, 1000)] public float Beta { get; set; } = 1f;

        [ConfigDoc("Weight γ of the intra-class relation (per class, across the batch).")]
        [ConfigRange(0, 1000)] public float Gamma { get; set; } = 1f;

        [ConfigDoc("Softmax temperature τ; the loss is scaled by τ².")]
        [ConfigRange(0.01, 100)] public float Tau { get; set; } = 1f;

        [ConfigDoc("Weight of the whole DIST term (official recipes: 2).")]
        [ConfigRange(0, 1000)] public float KdWeight { get; set; } = 1f;

        [ConfigDoc("Weight of the cross-entropy term.")]
        [ConfigRange(0, 1000)] public float CeWeight { get; set; } = 1f;
    }

    private readonly Params _p;

    public DIST(DistillerSetup setup, Params p) : base(setup)
    {
        var student = setup.Student;
        var teacher = Teacher;
        _p = p;
    }


    public override DistillOutput ForwardTrain(DistillBatch batch, StepContext context)
    {
        var logits = Student.Forward(batch.Images);
        var teacherLogits = TeacherForward(batch.Images).Logits;
        var (inter, intra) = DistLoss.Terms(logits, teacherLogits, _p.Tau);
        return new DistillOutput(logits, new Dictionary<string, Tensor>
        {
            ["loss_ce"] = CrossEntropy(logits, batch) * _p.CeWeight,
            ["loss_inter"] = inter * (_p.KdWeight * _p.Beta),
            ["loss_intra"] = intra * (_p.KdWeight * _p.Gamma),
        });
    }
}
