using CrossDistill.Engine;

namespace CrossDistill.Training.Distillers;

/// <summary>Plain supervised training with no teacher: the baselines, and how teachers are trained.</summary>
[Distiller("vanilla", "Supervised training with cross-entropy only (no teacher).")]
public sealed class Vanilla : Distiller
{
    public Vanilla(DistillerSetup setup) : base(setup) { }

    public override DistillOutput ForwardTrain(DistillBatch batch, StepContext context)
    {
        var logits = Student.Forward(batch.Images);
        return new DistillOutput(logits, new Dictionary<string, Tensor> { ["loss_ce"] = CrossEntropy(logits, batch) });
    }
}
