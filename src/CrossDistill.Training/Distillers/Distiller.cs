using CrossDistill.Engine;
using CrossDistill.Engine.Nn;
using CrossDistill.Models;

namespace CrossDistill.Training.Distillers;

/// <summary>What a method sees of one training step besides the batch.</summary>
public sealed record StepContext(int Epoch, int TotalEpochs, long Step, long StepsPerEpoch)
{
    /// <summary>Training progress in epochs, fractional (for warm-ups such as DKD's).</summary>
    public double EpochProgress => Epoch + (StepsPerEpoch == 0 ? 0 : (double)(Step % StepsPerEpoch) / StepsPerEpoch);
}

/// <summary>A training batch as methods see it.</summary>
public sealed record DistillBatch(Tensor Images, Tensor Labels, Tensor? SoftTargets, long[] Indices)
{
    /// <summary>The cross-entropy target: soft targets after mixup/cutmix, else the labels.</summary>
    public Tensor Target => SoftTargets ?? Labels;
}

/// <summary>The student's logits and the named losses whose sum is optimised (mdistiller's contract).</summary>
public sealed record DistillOutput(Tensor Logits, IReadOnlyDictionary<string, Tensor> Losses)
{
    public Tensor Total()
    {
        Tensor? total = null;
        foreach (var loss in Losses.Values) total = total is null ? loss : total + loss;
        return total ?? throw new InvalidOperationException("A method returned no losses.");
    }
}

/// <summary>
/// The base of every method. The student and the method's own trainable modules are registered
/// submodules (so they are checkpointed and optimised); teachers are not: they stay frozen, in
/// eval mode, outside the state dict. Adding a method means one file deriving from this class,
/// registered by name in <see cref="DistillerRegistry"/>, plus a config.
/// Hooks cover the methods queued after PAT without special cases in the trainer: sample indices
/// are in every batch (CRD's memory bank is a buffer of the method), a method may build extra views
/// from the batch itself (SSKD), <see cref="Teachers"/> is a list (multi-teacher KD), and
/// <see cref="InferenceModel"/> may wrap the student with modules that stay at inference.
/// </summary>
public abstract class Distiller : Module
{
    protected Distiller(VisionModel student, IReadOnlyList<VisionModel> teachers)
    {
        Student = RegisterModule("student", student);
        Teachers = teachers;
        foreach (var t in teachers)
        {
            t.Eval();
            foreach (var p in t.Parameters()) p.RequiresGrad = false;
        }
    }

    public VisionModel Student { get; }

    /// <summary>Frozen teachers (empty for vanilla training).</summary>
    public IReadOnlyList<VisionModel> Teachers { get; }

    public VisionModel Teacher => Teachers.Count > 0 ? Teachers[0] : throw new InvalidOperationException($"{GetType().Name} needs a teacher.");

    /// <summary>One training forward: the student's logits and the named losses.</summary>
    public abstract DistillOutput ForwardTrain(DistillBatch batch, StepContext context);

    /// <summary>The model that is evaluated and exported: the student, unless a method inserts modules that stay.</summary>
    public virtual Module<Tensor, Tensor> InferenceModel => Student;

    /// <summary>Trainable parameters: the student's and the method's own (never a teacher's).</summary>
    public IEnumerable<(string Name, Tensor Parameter)> TrainableParameters() => NamedParameters().Where(p => p.Parameter.RequiresGrad);

    /// <summary>Parameters the method adds on top of the student (RAA, aligners, prompts, …).</summary>
    public long ExtraParameterCount() => ParameterCount() - Student.ParameterCount();

    /// <summary>Keeps teachers in eval mode whatever mode the distiller is put in.</summary>
    public override Module Train(bool mode = true)
    {
        base.Train(mode);
        foreach (var t in Teachers) t.Eval();
        return this;
    }

    /// <summary>The teacher's logits (and features) without recording a graph.</summary>
    protected ModelOutput TeacherForward(Tensor images, int index = 0)
    {
        using var _ = GradMode.NoGrad();
        return Teachers[index].ForwardFeatures(images);
    }

    protected static Tensor CrossEntropy(Tensor logits, DistillBatch batch, float labelSmoothing)
        => F.CrossEntropy(logits, batch.Target, labelSmoothing);
}
