using CrossDistill.Training.Config;

namespace CrossDistill.Training.Distillers;

/// <summary>
/// PAT's hyper-parameters (method params in a run config). Defaults are the official code's
/// (research notes §1.2, §1.3): N_q 64, d 512, 8 heads, prompts before all four teacher stages,
/// feedback on, every loss weight 1 and T = 1.
/// </summary>
public class PatOptions
{
    [ConfigDoc("N_q: RAA queries over the four stages, 4·g² (36, 64, 144): each stage becomes a g×g grid of tokens.")]
    [ConfigRange(4, 4096)] public int NumQueries { get; set; } = 64;

    [ConfigDoc("d: RAA token width (even, divisible by heads).")]
    [ConfigRange(2, 8192)] public int Dim { get; set; } = 512;

    [ConfigDoc("RAA attention heads.")]
    [ConfigRange(1, 256)] public int Heads { get; set; } = 8;

    [ConfigDoc("Teacher stages (1-4) with an adaptive feedback prompt before them; empty: no AFP.")]
    public int[] AfpStages { get; set; } = { 1, 2, 3, 4 };

    [ConfigDoc("Feed the previous step's aligned-student minus prompted-teacher gap to the prompts (AFP w/o feedback when off).")]
    public bool Feedback { get; set; } = true;

    [ConfigDoc("Region-aware attention; off: FitNet-style aligners straight from each student stage.")]
    public bool Raa { get; set; } = true;

    [ConfigDoc("α: weight of KL(plain teacher ‖ student) at temperature T (times T²).")]
    [ConfigRange(0, 1000)] public float Alpha { get; set; } = 1f;

    [ConfigDoc("β: weight of the feature loss, the sum over stages of HCL(aligned student, prompted teacher).")]
    [ConfigRange(0, 1000)] public float Beta { get; set; } = 1f;

    [ConfigDoc("γ: weight of the regulariser KL(plain teacher ‖ prompted teacher) at T = 1.")]
    [ConfigRange(0, 1000)] public float Gamma { get; set; } = 1f;

    [ConfigDoc("T: temperature of the logit KL term (the official PAT uses 1).")]
    [ConfigRange(0.01, 100)] public float Temperature { get; set; } = 1f;

    [ConfigDoc("Detach the prompted teacher in the feature loss, so only L_Reg trains the prompts (an ablation; the official code does not).")]
    public bool DetachFdTarget { get; set; }

    [ConfigDoc("Reproduce the official code's quirks: batch-indexed positional encoding, SE without the multiply, last-token drop, no inverse permute.")]
    public bool AsPublished { get; set; }

    /// <summary>Throws an ArgumentException naming every invalid value.</summary>
    public void Validate()
    {
        var problems = new List<string>();
        int grid = (int)Math.Round(Math.Sqrt(NumQueries / 4));
        if (NumQueries <= 0 || NumQueries % 4 != 0 || grid * grid != NumQueries / 4)
            problems.Add($"num_queries {NumQueries} must be 4·g² (36, 64, 144, …)");
        if (Heads < 1 || Dim % Heads != 0 || Dim % 2 != 0) problems.Add($"dim {Dim} must be even and divisible by heads {Heads}");
        if (AfpStages is null) problems.Add("afp_stages must be a list (possibly empty)");
        else
        {
            if (AfpStages.Any(s => s < 1 || s > 4)) problems.Add($"afp_stages [{string.Join(", ", AfpStages)}] must be stages 1-4");
            if (AfpStages.Distinct().Count() != AfpStages.Length) problems.Add($"afp_stages [{string.Join(", ", AfpStages)}] repeats a stage");
        }
        if (!(Temperature > 0)) problems.Add($"temperature {Temperature} must be positive");
        if (!(Alpha >= 0 && Beta >= 0 && Gamma >= 0)) problems.Add($"alpha {Alpha}, beta {Beta} and gamma {Gamma} must be non-negative");
        if (problems.Count > 0) throw new ArgumentException("PatOptions: " + string.Join("; ", problems) + ".");
    }
}
