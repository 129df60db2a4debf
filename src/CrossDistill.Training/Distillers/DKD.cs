using CrossDistill.Engine;
using CrossDistill.Models;
using CrossDistill.Training.Config;
using CrossDistill.Training.Distillers.Losses;

namespace CrossDistill.Training.Distillers;

/// <summary>
/// Decoupled KD (Zhao et al., CVPR 2022): CE + w·(α·TCKD + β·NCKD), where the warm-up factor w
/// rises linearly from 0 to 1 over the first <see cref="Params.Warmup"/> epochs. The factor follows
/// the fractional epoch (it grows every step); mdistiller multiplies by min(epoch/warmup, 1) with
/// a 1-based epoch counter, constant within an epoch, so its first epoch already has 1/warmup.
/// </summary>
[Distiller("dkd", "Zhao et al. 2022: decoupled KD, target-class (TCKD) and non-target-class (NCKD) terms with a linear warm-up.", Teachers = 1)]
public sealed class DKD : Distiller
{
    public sealed class Params
    {
        [ConfigDoc("Weight α of the target-class term TCKD.")]
        [ConfigRange(0, 1000)] public float Alpha { get; set; } = 1f;

        [ConfigDoc("Weight β of the non-target-class term NCKD (mdistiller: 8 on CIFAR, 2–6 for some pairs, 0.5 on ImageNet).")]
        [ConfigRange(0, 1000)] public float Beta { get; set; } = 8f;

        [ConfigDoc("Softmax temperature T (mdistiller: 4 on CIFAR, 1 on ImageNet).")]
        [ConfigRange(0.01, 100)] public float Temperature { get; set; } = 4f;

        [ConfigDoc("Epochs over which the DKD terms ramp up linearly from 0 (0: no warm-up).")]
        [ConfigRange(0, 10000)] public float Warmup { get; set; } = 20f;

        [ConfigDoc("Weight of the cross-entropy term.")]
        [ConfigRange(0, 1000)] public float CeWeight { get; set; } = 1f;
    }

    private readonly Params _p;

    public DKD(DistillerSetup setup, Params p) : base(setup)
    {
        var student = setup.Student;
        var teacher = Teacher;
        _p = p;
    }


    /// <summary>min(epoch progress / warm-up epochs, 1), and 1 without warm-up.</summary>
    public static float WarmupFactor(StepContext context, float warmupEpochs)
        => warmupEpochs <= 0f ? 1f : (float)Math.Min(context.EpochProgress / warmupEpochs, 1.0);

    public override DistillOutput ForwardTrain(DistillBatch batch, StepContext context)
    {
        var logits = Student.Forward(batch.Images);
        var teacherLogits = TeacherForward(batch.Images).Logits;
        var (tckd, nckd) = DkdLoss.Terms(logits, teacherLogits, BatchTargets.HardLabels(batch), _p.Temperature);
        float warmup = WarmupFactor(context, _p.Warmup);
        return new DistillOutput(logits, new Dictionary<string, Tensor>
        {
            ["loss_ce"] = CrossEntropy(logits, batch) * _p.CeWeight,
            ["loss_tckd"] = tckd * (warmup * _p.Alpha),
            ["loss_nckd"] = nckd * (warmup * _p.Beta),
        });
    }
}
