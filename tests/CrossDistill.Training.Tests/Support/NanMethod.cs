using CrossDistill.Training.Config;
using CrossDistill.Training.Distillers;

namespace CrossDistill.Training.Tests.Support;

/// <summary>Cross-entropy plus a regulariser that turns NaN from a given global step on: drives the NaN guard.</summary>
[Distiller("test_nan_from_step", "Test method: loss_reg becomes NaN from params.step on.")]
public sealed class NanFromStep : Distiller
{
    public sealed class Params
    {
        [ConfigRange(0, 1e9)] public int Step { get; set; }
    }

    private readonly Params _p;

    public NanFromStep(DistillerSetup setup, Params p) : base(setup) => _p = p;

    public override DistillOutput ForwardTrain(DistillBatch batch, StepContext context)
    {
        var logits = Student.Forward(batch.Images);
        var ce = CrossEntropy(logits, batch);
        return new DistillOutput(logits, new Dictionary<string, Tensor>
        {
            ["loss_ce"] = ce,
            ["loss_reg"] = ce * (context.Step >= _p.Step ? float.NaN : 0f),
        });
    }
}
