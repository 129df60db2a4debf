using CrossDistill.Engine;
using CrossDistill.Engine.Nn;
using CrossDistill.Models;

namespace CrossDistill.Training.Distillers;

/// <summary>Where training is when a method is called: for warm-ups (DKD), schedules of loss weights, and the method's own randomness.</summary>
/// <param name="Epoch">The current epoch, from 0.</param>
/// <param name="Step">Optimizer steps taken before this one, over the whole run.</param>
/// <param name="StepInEpoch">The batch's position in its epoch, from 0.</param>
/// <param name="Rng">The run's generator: every random choice a method makes must come from it, so runs and resumes are reproducible.</param>
public sealed record StepContext(int Epoch, int TotalEpochs, long Step, int StepInEpoch, int StepsPerEpoch, Generator Rng)
{
    /// <summary>Training progress in epochs, fractional.</summary>
    public double EpochProgress => Epoch + (StepsPerEpoch == 0 ? 0 : (double)StepInEpoch / StepsPerEpoch);
}

/// <summary>A training batch as methods see it. Its tensors belong to the trainer.</summary>
/// <param name="Images">float32 N×C×H×W, normalised (after mixup/CutMix when on).</param>
/// <param name="Labels">int64 N: each sample's label (with mixing, the label that weighs most).</param>
/// <param name="SoftTargets">float32 N×classes after mixup/CutMix, else null.</param>
/// <param name="Indices">Each sample's index in the training set (memory banks, CRD's contrastive sampling).</param>
/// <param name="SecondaryLabels">The dataset's second label (shapes: texture class), or null.</param>
public sealed record DistillBatch(Tensor Images, Tensor Labels, Tensor? SoftTargets, int[] Indices, Tensor? SecondaryLabels = null)
{
    /// <summary>The cross-entropy target: the soft targets after mixup/CutMix, else the labels.</summary>
    public Tensor Target => SoftTargets ?? Labels;

    public int Count => Indices.Length;
}

/// <summary>The student's logits and the named losses (loss_ce, loss_kl, …) whose sum is optimised.</summary>
public sealed record DistillOutput(Tensor Logits, IReadOnlyDictionary<string, Tensor> Losses)
{
    /// <summary>The sum of the losses, in their order (the order fixes the rounding, so it is part of reproducibility).</summary>
    public Tensor Total()
    {
        Tensor? total = null;
        foreach (var loss in Losses.Values) total = total is null ? loss : total + loss;
        return total ?? throw new InvalidOperationException("A method returned no losses.");
    }
}

/// <summary>What every method is built from.</summary>
/// <param name="Student">The model being trained.</param>
/// <param name="Teachers">Frozen teachers, in config order (empty for vanilla training).</param>
/// <param name="NumClasses">Classes of the dataset.</param>
/// <param name="TrainSize">Images in the training set (the size of a per-sample memory bank).</param>
/// <param name="LabelSmoothing">train.label_smoothing, applied by <see cref="Distiller.CrossEntropy"/>.</param>
/// <param name="CreateStudent">Builds a fresh student of the same architecture and config (for EMA copies and method-side clones).</param>
public sealed record DistillerSetup(VisionModel Student, IReadOnlyList<VisionModel> Teachers, int NumClasses, int TrainSize, float LabelSmoothing, Func<VisionModel> CreateStudent);

/// <summary>
/// The base of every distillation method (mdistiller's contract). The student and the method's own
/// trainable modules are registered submodules, so they are optimised and checkpointed together
/// (the checkpoint's "distiller state"); teachers are not: they stay frozen, in eval mode, outside
/// the state dict, and are rebuilt from their own weights on resume.
/// <para>A method is one file: a class deriving from this one, marked [Distiller("name")], with a
/// nested <c>Params</c> class bound from <c>method.params</c>, and a constructor taking
/// (<see cref="DistillerSetup"/>) or (<see cref="DistillerSetup"/>, Params).</para>
/// <para>What the queued methods need is here without special cases in the trainer: sample indices
/// and the training-set size (CRD's memory bank, a buffer of the method, updated in
/// <see cref="AfterStep"/>); the batch and the run's generator to build extra views (SSKD), with a
/// teacher-side head as a method module; several teachers (multi-teacher KD); and
/// <see cref="InferenceModel"/> for modules inserted into the student that stay at inference.</para>
/// </summary>
public abstract class Distiller : Module
{
    protected Distiller(DistillerSetup setup)
    {
        Setup = setup ?? throw new ArgumentNullException(nameof(setup));
        Student = RegisterModule("student", setup.Student);
        foreach (var teacher in setup.Teachers)
        {
            teacher.Eval();
            foreach (var p in teacher.Parameters()) p.RequiresGrad = false;
        }
    }

    public DistillerSetup Setup { get; }

    public VisionModel Student { get; }

    /// <summary>Frozen teachers (empty for vanilla training).</summary>
    public IReadOnlyList<VisionModel> Teachers => Setup.Teachers;

    public VisionModel Teacher => Teachers.Count > 0 ? Teachers[0] : throw new InvalidOperationException($"{GetType().Name} needs a teacher.");

    /// <summary>One training forward: the student's logits and the named losses.</summary>
    public abstract DistillOutput ForwardTrain(DistillBatch batch, StepContext context);

    /// <summary>The model that is evaluated, averaged (EMA) and exported: the student, unless the method inserts modules that stay.</summary>
    public virtual Module<Tensor, Tensor> InferenceModel => Student;

    /// <summary>A fresh model shaped like <see cref="InferenceModel"/> (whose state dict it can load): the EMA's copy.</summary>
    public virtual Module<Tensor, Tensor> CreateInferenceModel() => Setup.CreateStudent();

    /// <summary>Called before the first step of every epoch (also a resumed one).</summary>
    public virtual void OnEpochStart(StepContext context) { }

    /// <summary>Called after the optimizer step (memory banks, momentum encoders, queues).</summary>
    public virtual void AfterStep(DistillBatch batch, DistillOutput output, StepContext context) { }

    /// <summary>State a resume needs that is not in the state dict (PAT's feedback from the previous step), saved with each checkpoint.</summary>
    public virtual IReadOnlyDictionary<string, Tensor> ExtraState() => new Dictionary<string, Tensor>();

    /// <summary>Restores <see cref="ExtraState"/> from a checkpoint (keys as it wrote them).</summary>
    public virtual void LoadExtraState(IReadOnlyDictionary<string, Tensor> state) { }

    /// <summary>Trainable parameters: the student's and the method's own (never a teacher's).</summary>
    public IEnumerable<(string Name, Tensor Parameter)> TrainableParameters() => NamedParameters().Where(p => p.Parameter.RequiresGrad);

    /// <summary>Parameters the method adds on top of the student (projectors, prompts, heads).</summary>
    public long ExtraParameterCount() => ParameterCount() - Student.ParameterCount();

    /// <summary>Keeps the teachers in eval mode whatever mode the distiller is put in.</summary>
    public override Module Train(bool mode = true)
    {
        base.Train(mode);
        foreach (var teacher in Teachers) teacher.Eval();
        return this;
    }

    /// <summary>A teacher's logits and stage features, with no graph recorded.</summary>
    protected ModelOutput TeacherForward(Tensor images, int index = 0)
    {
        using var _ = GradMode.NoGrad();
        return Teachers[index].ForwardFeatures(images);
    }

    /// <summary>Cross-entropy against the batch's target (soft after mixing), with the run's label smoothing.</summary>
    protected Tensor CrossEntropy(Tensor logits, DistillBatch batch) => F.CrossEntropy(logits, batch.Target, Setup.LabelSmoothing);
}
