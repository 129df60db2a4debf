using CrossDistill.Training.Config;

namespace CrossDistill.Training.Sweeps;

/// <summary>
/// A grid of runs: every student × teacher × method × seed, from one base run config. Teachers are
/// trained first (once per seed, or once for all seeds when shared) from their own configs; `vanilla` students need no teacher and
/// run once per student and seed. Each entry's `set` is a list of `key.path=value` overrides.
/// </summary>
public sealed class SweepConfig
{
    [ConfigDoc("Sweep name; runs go to <output_dir>/<name>/.")]
    [ConfigRequired] public string Name { get; set; } = "";

    public string OutputDir { get; set; } = "runs/sweeps";

    [ConfigDoc("The run config every student run starts from (path relative to the sweep file).")]
    [ConfigRequired] public string Base { get; set; } = "";

    [ConfigDoc("Seeds; each cell of the grid runs once per seed.")]
    public ulong[] Seeds { get; set; } = { 0, 1, 2 };

    public List<SweepTeacher> Teachers { get; set; } = new();

    public List<SweepEntry> Students { get; set; } = new();

    public List<SweepEntry> Methods { get; set; } = new();
}

public sealed class SweepTeacher
{
    [ConfigRequired] public string Name { get; set; } = "";

    [ConfigDoc("The teacher's own run config (path relative to the sweep file), trained with `vanilla`.")]
    [ConfigRequired] public string Config { get; set; } = "";

    public string[] Set { get; set; } = Array.Empty<string>();

    [ConfigDoc("Train this teacher once (with its config's own seed) and distil every seed's students from it; false: one teacher per seed.")]
    public bool Shared { get; set; }
}

public sealed class SweepEntry
{
    [ConfigDoc("The entry's label in run names and tables; for methods also the method unless `method` is given.")]
    [ConfigRequired] public string Name { get; set; } = "";

    [ConfigDoc("Methods only: the registered method to run when `name` is a label for a variant (e.g. an ablation of pat).")]
    public string? Method { get; set; }

    public string[] Set { get; set; } = Array.Empty<string>();
}
