using CrossDistill.Engine;
using CrossDistill.Engine.Nn;
using CrossDistill.Models;

namespace CrossDistill.Training.Distillers.PatModules;

/// <summary>One PAT step's losses (already weighted) and what they were computed from.</summary>
/// <param name="LossCe">CE(student, target).</param>
/// <param name="LossKl">α·T²·KL(plain teacher_T ‖ student_T).</param>
/// <param name="LossFd">β·Σ_stages HCL(aligned student, prompted teacher).</param>
/// <param name="LossReg">γ·KL(plain teacher ‖ prompted teacher) at T = 1 (0 without prompts).</param>
/// <param name="StageFd">The unweighted HCL of each stage.</param>
/// <param name="AlignedStudent">The aligned student features, in the teacher's grid form.</param>
/// <param name="TeacherTargets">The prompted teacher's features in grid form (the HCL targets).</param>
/// <param name="PromptedLogits">The prompted teacher's logits.</param>
/// <param name="TeacherLogits">The plain teacher's logits (no graph).</param>
public sealed record PatTerms(Tensor LossCe, Tensor LossKl, Tensor LossFd, Tensor LossReg, Tensor[] StageFd,
    Tensor[] AlignedStudent, Tensor[] TeacherTargets, Tensor PromptedLogits, Tensor TeacherLogits)
{
    /// <summary>The named terms whose sum is optimised: loss_ce, loss_kl, loss_fd, loss_reg.</summary>
    public IReadOnlyDictionary<string, Tensor> Named() => new Dictionary<string, Tensor>
    {
        ["loss_ce"] = LossCe,
        ["loss_kl"] = LossKl,
        ["loss_fd"] = LossFd,
        ["loss_reg"] = LossReg,
    };

    public Tensor Total() => LossCe + LossKl + LossFd + LossReg;
}

/// <summary>
/// PAT's trainable modules and its loss (research notes §1.2):
/// L = CE + α·T²·KL(plain teacher ‖ student, T) + β·Σ_i HCL(A_i(RAA(student)_i), prompted teacher_i)
///   + γ·KL(plain teacher ‖ prompted teacher, T = 1).
/// <list type="bullet">
/// <item><c>raa</c>: <see cref="RegionAwareAttention"/> over the four student stages (when
/// <see cref="PatOptions.Raa"/>); <c>aligners.i</c> map its (B, N_q/4, d) stage outputs onto the
/// teacher's stage-i shape in grid form (<see cref="Aligners.Create"/>).</item>
/// <item>With RAA off (the FitNet baseline of the paper's ablation) each aligner maps student
/// stage i straight onto teacher stage i: maps → maps by nearest resize, BN2d and a 1×1 conv; tokens
/// → tokens by <see cref="TokenAligner"/>; a map student onto a token teacher flattens its map into
/// row-major tokens first; a token student onto a map teacher lays its grid tokens out as a map.</item>
/// <item><c>afp</c>: <see cref="AdaptiveFeedbackPrompts"/> before the configured teacher stages; the
/// plain teacher (no prompts, no graph) gives the KL target, the prompted one the HCL targets.</item>
/// </list>
/// In training mode a forward also hands the step's gap to the prompts as the next step's feedback.
/// </summary>
public sealed class PatLoss : Module
{
    private readonly FeatureSpec[] _studentSpecs;
    private readonly FeatureSpec[] _teacherOutputSpecs;

    public PatLoss(IReadOnlyList<FeatureSpec> studentSpecs, IReadOnlyList<FeatureSpec> teacherInputSpecs,
        IReadOnlyList<FeatureSpec> teacherOutputSpecs, PatOptions options)
    {
        ArgumentNullException.ThrowIfNull(studentSpecs);
        ArgumentNullException.ThrowIfNull(teacherInputSpecs);
        ArgumentNullException.ThrowIfNull(teacherOutputSpecs);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (studentSpecs.Count != 4 || teacherOutputSpecs.Count != 4)
            throw new ArgumentException($"PatLoss: expected 4 student and 4 teacher stage specs, got {studentSpecs.Count} and {teacherOutputSpecs.Count}.");
        Options = options;
        bool published = options.AsPublished;
        _studentSpecs = studentSpecs.ToArray();
        _teacherOutputSpecs = teacherOutputSpecs.ToArray();
        var targets = _teacherOutputSpecs.Select((s, i) => PatFeatures.GridSpec(s, published, $"PatLoss: teacher stage {i + 1}")).ToArray();
        FeatureSpec[] sources;
        if (options.Raa)
        {
            Raa = RegisterModule("raa", new RegionAwareAttention(_studentSpecs, options.NumQueries, options.Dim, options.Heads, published));
            sources = Enumerable.Repeat<FeatureSpec>(new TokenSpec(options.NumQueries / 4, options.Dim), 4).ToArray();
        }
        else
        {
            sources = _studentSpecs.Select((s, i) => PatFeatures.GridSpec(s, published, $"PatLoss: student stage {i + 1}")).ToArray();
        }
        StageAligners = RegisterModule("aligners", new ModuleList<Module<Tensor, Tensor>>(sources.Zip(targets, Aligners.Create)));
        if (options.AfpStages.Length > 0)
            Afp = RegisterModule("afp", new AdaptiveFeedbackPrompts(teacherInputSpecs, _teacherOutputSpecs, options.AfpStages, published, options.Feedback));
    }

    public PatOptions Options { get; }
    public RegionAwareAttention? Raa { get; }
    public ModuleList<Module<Tensor, Tensor>> StageAligners { get; }
    public AdaptiveFeedbackPrompts? Afp { get; }

    /// <summary>
    /// The losses of one step: <paramref name="student"/> is the student's forward (logits and four
    /// stage features) on <paramref name="images"/>, <paramref name="target"/> the class indices or
    /// class probabilities for the cross entropy.
    /// </summary>
    public PatTerms Forward(ModelOutput student, VisionModel teacher, Tensor images, Tensor target, float labelSmoothing = 0f)
    {
        ArgumentNullException.ThrowIfNull(student);
        ArgumentNullException.ThrowIfNull(teacher);
        if (student.Features.Length != 4)
            throw new ArgumentException($"PatLoss: expected 4 student features, got {student.Features.Length}.", nameof(student));
        bool published = Options.AsPublished;

        ModelOutput plain;
        using (GradMode.NoGrad()) plain = teacher.ForwardFeatures(images);
        var prompted = Afp is null ? plain : Afp.Forward(teacher, images);

        var targets = new Tensor[4];
        var aligned = new Tensor[4];
        var stageFd = new Tensor[4];
        var blended = Raa?.Forward(student.Features);
        for (int i = 0; i < 4; i++)
        {
            PatFeatures.CheckShape(prompted.Features[i], _teacherOutputSpecs[i], $"PatLoss: teacher stage {i + 1}");
            targets[i] = PatFeatures.GridTokens(prompted.Features[i], _teacherOutputSpecs[i], published);
            if (Options.DetachFdTarget) targets[i] = targets[i].Detach();
            if (blended is null) PatFeatures.CheckShape(student.Features[i], _studentSpecs[i], $"PatLoss: student stage {i + 1}");
            var source = blended?[i] ?? PatFeatures.GridTokens(student.Features[i], _studentSpecs[i], published);
            aligned[i] = StageAligners[i].Forward(source);
            stageFd[i] = Hcl.Loss(PatFeatures.AsMap(aligned[i]), PatFeatures.AsMap(targets[i]));
        }
        var fd = stageFd[0] + stageFd[1] + stageFd[2] + stageFd[3];
        var ce = F.CrossEntropy(student.Logits, target, labelSmoothing);
        var kl = KdLoss(student.Logits, plain.Logits, Options.Temperature);
        var reg = Afp is null ? Torch.Zeros() : KdLoss(prompted.Logits, plain.Logits, 1f);

        if (Training && Afp is not null && Afp.UseFeedback) Afp.UpdateFeedback(aligned, targets);
        return new PatTerms(ce, kl * Options.Alpha, fd * Options.Beta, reg * Options.Gamma, stageFd, aligned, targets, prompted.Logits, plain.Logits);
    }

    /// <summary>T²·KL(softmax(target/T) ‖ softmax(logits/T)), batch mean (the official kd_loss).</summary>
    public static Tensor KdLoss(Tensor logits, Tensor targetLogits, float temperature)
    {
        var logP = F.LogSoftmax(logits / temperature, 1);
        var logQ = F.LogSoftmax(targetLogits / temperature, 1);
        return F.KlDiv(logP, logQ, reduction: "batchmean", logTarget: true) * (temperature * temperature);
    }
}
