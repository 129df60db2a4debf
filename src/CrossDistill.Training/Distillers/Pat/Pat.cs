using CrossDistill.Engine;
using CrossDistill.Models;
using CrossDistill.Training.Distillers.PatModules;

namespace CrossDistill.Training.Distillers;

/// <summary>
/// Perspective-Aware Teaching (Lin et al., ICCV 2025; first published as FOFA) as a method: the
/// student plus <see cref="PatLoss"/> (RAA, aligners and the teacher's adaptive feedback prompts,
/// registered as "pat"). The teacher stays frozen; its prompts are trained. Only the student is
/// kept for inference.
/// </summary>
[Distiller("pat", "Lin et al. 2025: Perspective-Aware Teaching (FOFA): region-aware attention on the student, adaptive feedback prompts on the teacher, HCL feature loss.", Teachers = 1)]
public sealed class Pat : Distiller
{
    /// <summary>PAT's options as method.params (see <see cref="PatOptions"/>).</summary>
    public sealed class Params : PatOptions { }

    public Pat(DistillerSetup setup, Params options) : this(setup, (PatOptions)options) { }

    public Pat(DistillerSetup setup, PatOptions options) : base(setup)
    {
        ArgumentNullException.ThrowIfNull(options);
        Loss = RegisterModule("pat", new PatLoss(setup.Student.StageOutputSpecs, Teacher.StageInputSpecs, Teacher.StageOutputSpecs, options));
    }

    public PatLoss Loss { get; }

    public PatOptions Options => Loss.Options;

    public override DistillOutput ForwardTrain(DistillBatch batch, StepContext context)
    {
        ArgumentNullException.ThrowIfNull(batch);
        var student = Student.ForwardFeatures(batch.Images);
        var terms = Loss.Forward(student, Teacher, batch.Images, batch.Target, Setup.LabelSmoothing);
        return new DistillOutput(student.Logits, terms.Named());
    }

    public override IReadOnlyDictionary<string, Tensor> ExtraState() => FeedbackState();

    public override void LoadExtraState(IReadOnlyDictionary<string, Tensor> state) => LoadFeedbackState(state);

    /// <summary>The prompts' feedback buffers for a checkpoint (keys "pat.afp.feedback_i"); empty before the first step.</summary>
    public Dictionary<string, Tensor> FeedbackState()
        => Loss.Afp?.FeedbackState().ToDictionary(kv => "pat.afp." + kv.Key, kv => kv.Value) ?? new Dictionary<string, Tensor>();

    /// <summary>Restores <see cref="FeedbackState"/>'s tensors (other keys of <paramref name="state"/> are ignored).</summary>
    public void LoadFeedbackState(IReadOnlyDictionary<string, Tensor> state)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (Loss.Afp is null) return;
        const string prefix = "pat.afp.";
        Loss.Afp.LoadFeedbackState(state.Where(kv => kv.Key.StartsWith(prefix + "feedback_", StringComparison.Ordinal))
            .ToDictionary(kv => kv.Key[prefix.Length..], kv => kv.Value));
    }
}
