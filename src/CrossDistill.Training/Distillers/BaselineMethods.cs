using CrossDistill.Models;

namespace CrossDistill.Training.Distillers;

/// <summary>One method the registry can offer: its config name, its Params class and how to build it.</summary>
/// <param name="Create">(student, teacher, bound params, label smoothing) → the distiller.</param>
public sealed record MethodEntry(string Name, string Description, Type ParamsType, Func<VisionModel, VisionModel, object, float, Distiller> Create);

/// <summary>
/// The heterogeneous baselines of issue 7, as entries for the distiller registry: each binds
/// `method.params` into its Params class and calls the method's constructor.
/// </summary>
public static class BaselineMethods
{
    public static IReadOnlyList<MethodEntry> All { get; } = new MethodEntry[]
    {
        new("dkd", "Decoupled KD: target-class and non-target-class KL terms with a warm-up (Zhao et al. 2022).",
            typeof(DKD.Params), (s, t, p, ls) => new DKD(s, t, (DKD.Params)p, ls)),
        new("dist", "DIST: inter- and intra-class Pearson relations of the softened outputs (Huang et al. 2022).",
            typeof(DIST.Params), (s, t, p, ls) => new DIST(s, t, (DIST.Params)p, ls)),
        new("ofa", "One-for-All KD: per-stage branches into logit space with target-enhanced soft labels (Hao et al. 2023).",
            typeof(OFA.Params), (s, t, p, ls) => new OFA(s, t, (OFA.Params)p, ls)),
        new("fitnet", "FitNet hints: MSE between regressed student and teacher stage features, maps and tokens (Romero et al. 2015).",
            typeof(FitNet.Params), (s, t, p, ls) => new FitNet(s, t, (FitNet.Params)p, ls)),
    };
}
