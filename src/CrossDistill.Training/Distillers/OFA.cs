using CrossDistill.Engine;
using CrossDistill.Engine.Nn;
using CrossDistill.Models;
using CrossDistill.Training.Config;
using CrossDistill.Training.Distillers.Losses;
using CrossDistill.Training.Distillers.Modules;

namespace CrossDistill.Training.Distillers;

/// <summary>
/// One-for-All KD (Hao et al., NeurIPS 2023): branches project chosen student stages into logit
/// space, and each branch and the student's own logits learn from the teacher's logits with
/// <see cref="OfaLoss"/>:
/// L = w_ce·CE + w_kd·OFA(z_s, z_t; ε_last) + w_ofa·Σ_stages OFA(branch(F_s), z_t; ε_stage).
/// CNN students get <see cref="CnnLogitBranch"/>es of width max(student, teacher pre-logit width);
/// token students get <see cref="TokenLogitBranch"/>es of the student's width. Branches are
/// initialised as the official init_weights. Stages are 1-based (1 … 4) as in the official code.
/// </summary>
[Distiller("ofa", "Hao et al. 2023: one-for-all KD, per-stage branches into logit space with the (p_t + m)^ε target enhancement.", Teachers = 1)]
public sealed class OFA : Distiller
{
    public sealed class Params
    {
        [ConfigDoc("Student stages (1 … 4) that get a branch into logit space.")]
        public int[] Stages { get; set; } = { 1, 2, 3, 4 };

        [ConfigDoc("Target-enhancement exponent ε: one value for every branch and the logits, or one per stage plus a last one for the student's logits (official: 1 on CIFAR, 1.5 on ImageNet).")]
        public float[] Eps { get; set; } = { 1f };

        [ConfigDoc("Softmax temperature T of the OFA loss.")]
        [ConfigRange(0.01, 100)] public float Temperature { get; set; } = 1f;

        [ConfigDoc("Weight of the sum of the branch losses.")]
        [ConfigRange(0, 1000)] public float OfaWeight { get; set; } = 1f;

        [ConfigDoc("Weight of the OFA loss on the student's own logits.")]
        [ConfigRange(0, 1000)] public float KdWeight { get; set; } = 1f;

        [ConfigDoc("Weight of the cross-entropy term.")]
        [ConfigRange(0, 1000)] public float CeWeight { get; set; } = 1f;

        [ConfigDoc("Token students: the grid side the branches' patch merging aims at (official: 7, for 224-px inputs).")]
        [ConfigRange(1, 1024)] public int TokenFinalGrid { get; set; } = 7;
    }

    private readonly Params _p;
    private readonly int[] _stages;
    private readonly float[] _eps;
    private readonly ModuleDict<Module<Tensor, Tensor>> _branches;

    public OFA(DistillerSetup setup, Params p) : base(setup)
    {
        var student = setup.Student;
        var teacher = Teacher;
        _p = p;
        _stages = CheckStages("OFA", p.Stages);
        _eps = ExpandEps(p.Eps, _stages.Length);
        int classes = student.Config.NumClasses;
        var specs = student.StageOutputSpecs;
        _branches = RegisterModule("branches", new ModuleDict<Module<Tensor, Tensor>>());
        foreach (int stage in _stages)
        {
            Module<Tensor, Tensor> branch = specs[stage - 1] switch
            {
                MapSpec map => new CnnLogitBranch(map, stage, Math.Max(student.FeatureDim, teacher.FeatureDim), classes),
                TokenSpec tokens => new TokenLogitBranch(tokens, stage, student.FeatureDim, classes, p.TokenFinalGrid),
                var other => throw new ArgumentException($"OFA: unsupported student feature {other} at stage {stage}."),
            };
            _branches.Add(stage.ToString(System.Globalization.CultureInfo.InvariantCulture), branch);
        }
        OfficialInit.Apply(_branches);
    }


    /// <summary>The branch of a 1-based stage.</summary>
    public Module<Tensor, Tensor> Branch(int stage) => _branches[stage.ToString(System.Globalization.CultureInfo.InvariantCulture)];

    /// <summary>ε per branch, then ε for the student's logits.</summary>
    public IReadOnlyList<float> Eps => _eps;

    public override DistillOutput ForwardTrain(DistillBatch batch, StepContext context)
    {
        var output = Student.ForwardFeatures(batch.Images);
        var teacherLogits = TeacherForward(batch.Images).Logits;
        var mask = OfaLoss.TargetMask(BatchTargets.HardLabels(batch), output.Logits.Shape[1]);
        Tensor? branchLoss = null;
        for (int i = 0; i < _stages.Length; i++)
        {
            var branchLogits = Branch(_stages[i]).Forward(output.Features[_stages[i] - 1]);
            var term = OfaLoss.Compute(branchLogits, teacherLogits, mask, _eps[i], _p.Temperature);
            branchLoss = branchLoss is null ? term : branchLoss + term;
        }
        return new DistillOutput(output.Logits, new Dictionary<string, Tensor>
        {
            ["loss_ce"] = CrossEntropy(output.Logits, batch) * _p.CeWeight,
            ["loss_kd"] = OfaLoss.Compute(output.Logits, teacherLogits, mask, _eps[^1], _p.Temperature) * _p.KdWeight,
            ["loss_ofa"] = branchLoss! * _p.OfaWeight,
        });
    }

    /// <summary>Distinct 1-based stages in 1 … 4, at least one, in the given order.</summary>
    internal static int[] CheckStages(string method, int[]? stages)
    {
        if (stages is null || stages.Length == 0) throw new ArgumentException($"{method}: stages must list at least one stage (1 … 4).");
        if (stages.Any(s => s is < 1 or > 4)) throw new ArgumentException($"{method}: stages must be in 1 … 4, got [{string.Join(", ", stages)}].");
        if (stages.Distinct().Count() != stages.Length) throw new ArgumentException($"{method}: stages [{string.Join(", ", stages)}] repeat a stage.");
        return (int[])stages.Clone();
    }

    /// <summary>One ε for all, or one per stage plus one for the logits, as the official code accepts.</summary>
    internal static float[] ExpandEps(float[]? eps, int stages)
    {
        if (eps is null || (eps.Length != 1 && eps.Length != stages + 1))
            throw new ArgumentException($"OFA: eps needs 1 value or {stages + 1} (one per stage and one for the logits), got {eps?.Length ?? 0}.");
        if (eps.Any(e => !(e > 0f) || !float.IsFinite(e))) throw new ArgumentException($"OFA: every eps must be positive, got [{string.Join(", ", eps)}].");
        return eps.Length == 1 ? Enumerable.Repeat(eps[0], stages + 1).ToArray() : (float[])eps.Clone();
    }
}
