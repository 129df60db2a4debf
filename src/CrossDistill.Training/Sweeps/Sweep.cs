using System.Globalization;
using System.Text;
using System.Text.Json;
using CrossDistill.Training.Config;
using CrossDistill.Training.Runs;

namespace CrossDistill.Training.Sweeps;

/// <summary>One finished run of a sweep, as recorded in its summary.json.</summary>
public sealed record SweepResult(string Run, string Teacher, string Student, string Method, ulong Seed, double BestAccuracy, double LastAccuracy, double Seconds);

/// <summary>
/// Runs a <see cref="SweepConfig"/> grid and tabulates it. Each finished run gets a summary.json,
/// so running the sweep again skips what is done, resumes a run that has a checkpoint and starts
/// the rest: an interrupted sweep continues where it stopped.
/// </summary>
public sealed class Sweep
{
    public const string SummaryFile = "summary.json";

    private readonly SweepConfig _config;
    private readonly string _folder;
    private readonly Func<string, ITrainingObserver> _observer;
    private readonly List<SweepResult> _teacherResults = new();

    public Sweep(SweepConfig config, string configFolder, Func<string, ITrainingObserver> observerFor)
    {
        _config = config;
        _folder = configFolder;
        _observer = observerFor;
        if (config.Students.Count == 0) throw new ConfigException(new[] { "students: list at least one student" });
        if (config.Methods.Count == 0) throw new ConfigException(new[] { "methods: list at least one method" });
        if (config.Methods.Any(m => (m.Method ?? m.Name) != "vanilla") && config.Teachers.Count == 0)
            throw new ConfigException(new[] { "teachers: methods other than vanilla need at least one teacher" });
    }

    public string Root => Path.Combine(_config.OutputDir, _config.Name);

    /// <summary>Runs (or resumes, or skips) every cell, then writes results.csv and results.md.</summary>
    public IReadOnlyList<SweepResult> Run(CancellationToken cancellation = default)
    {
        var results = new List<SweepResult>();
        _teacherResults.Clear();
        var sharedTeachers = _config.Teachers.Where(t => t.Shared)
            .ToDictionary(t => t.Name, t => TrainTeacher(t, $"teacher_{t.Name}", Array.Empty<string>(), cancellation));
        foreach (ulong seed in _config.Seeds)
        {
            var teacherDirs = _config.Teachers.ToDictionary(t => t.Name, t => t.Shared
                ? sharedTeachers[t.Name]
                : TrainTeacher(t, $"teacher_{t.Name}_s{seed}", new[] { $"seed={seed}" }, cancellation));
            foreach (var student in _config.Students)
                foreach (var method in _config.Methods)
                {
                    string methodName = method.Method ?? method.Name;
                    var teachers = methodName == "vanilla" ? new[] { "-" } : _config.Teachers.Select(t => t.Name).ToArray();
                    foreach (var teacher in teachers)
                    {
                        var overrides = student.Set.Concat(method.Set).Append($"method.name={methodName}").Append($"seed={seed}");
                        if (teacher != "-") overrides = overrides.Append($"teacher.run={teacherDirs[teacher]}");
                        string run = teacher == "-" ? $"{student.Name}_{method.Name}_s{seed}" : $"{student.Name}_{method.Name}_from_{teacher}_s{seed}";
                        results.Add(RunCell(run, Path.Combine(_folder, _config.Base), teacher == "-" ? RunKind.Train : RunKind.Distill,
                            overrides, teacher, student.Name, method.Name, seed, cancellation));
                    }
                }
        }
        WriteTables(results);
        return results;
    }

    private string TrainTeacher(SweepTeacher teacher, string run, IEnumerable<string> overrides, CancellationToken cancellation)
    {
        _teacherResults.Add(RunCell(run, Path.Combine(_folder, teacher.Config), RunKind.Train, teacher.Set.Concat(overrides), "-", teacher.Name, "vanilla", 0, cancellation));
        return Path.Combine(Root, run);
    }

    private SweepResult RunCell(string run, string configPath, RunKind kind, IEnumerable<string> overrides, string teacher, string student, string method, ulong seed, CancellationToken cancellation)
    {
        string dir = Path.Combine(Root, run);
        string summaryPath = Path.Combine(dir, SummaryFile);
        if (File.Exists(summaryPath)) return JsonSerializer.Deserialize<SweepResult>(File.ReadAllText(summaryPath))!;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        RunSummary summary;
        if (Checkpoint.List(dir).Count > 0) summary = Trainer.Resume(dir, _observer(run), cancellation);
        else
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true); // started but never checkpointed
            var (config, _) = ConfigLoader.Load<RunConfig>(configPath, overrides.Concat(new[] { $"output_dir={Root}", $"name={run}" }));
            summary = Trainer.Start(config, kind, _observer(run), cancellation);
        }
        if (summary.Status != RunStatus.Completed) throw new OperationCanceledException($"sweep stopped during {run}; run the sweep again to continue");
        var result = new SweepResult(run, teacher, student, method, seed, summary.BestAccuracy, summary.LastAccuracy, clock.Elapsed.TotalSeconds);
        string tmp = summaryPath + ".tmp";
        File.WriteAllText(tmp, JsonSerializer.Serialize(result));
        File.Move(tmp, summaryPath, overwrite: true);
        return result;
    }

    private void WriteTables(IReadOnlyList<SweepResult> results)
    {
        var csv = new StringBuilder("run,teacher,student,method,seed,best_accuracy,last_accuracy,seconds\n");
        foreach (var r in results)
            csv.AppendLine(string.Create(CultureInfo.InvariantCulture, $"{r.Run},{r.Teacher},{r.Student},{r.Method},{r.Seed},{r.BestAccuracy:R},{r.LastAccuracy:R},{r.Seconds:F1}"));
        WriteAtomically(Path.Combine(Root, "results.csv"), csv.ToString());

        var md = new StringBuilder($"# Sweep {_config.Name}\n\nMean ± sample standard deviation over seeds {string.Join(", ", _config.Seeds)} (test accuracy, %).\n\n");
        md.AppendLine("| student | teacher | method | best acc | last acc | runs | time per run |");
        md.AppendLine("| --- | --- | --- | ---: | ---: | ---: | ---: |");
        foreach (var g in results.GroupBy(r => (r.Student, r.Teacher, r.Method)))
            md.AppendLine($"| {g.Key.Student} | {g.Key.Teacher} | {g.Key.Method} | {MeanStd(g.Select(r => r.BestAccuracy))} | {MeanStd(g.Select(r => r.LastAccuracy))} | {g.Count()} | {g.Average(r => r.Seconds).ToString("F0", CultureInfo.InvariantCulture)} s |");
        if (_teacherResults.Count > 0)
        {
            md.AppendLine("\nTeachers (trained with `vanilla` before the students):\n");
            md.AppendLine("| teacher run | best acc | last acc | time |");
            md.AppendLine("| --- | ---: | ---: | ---: |");
            foreach (var t in _teacherResults)
                md.AppendLine(string.Create(CultureInfo.InvariantCulture, $"| {t.Run} | {100 * t.BestAccuracy:F2} | {100 * t.LastAccuracy:F2} | {t.Seconds:F0} s |"));
        }
        WriteAtomically(Path.Combine(Root, "results.md"), md.ToString());
    }

    /// <summary>"m ± s" in percent, with the sample (n − 1) standard deviation.</summary>
    public static string MeanStd(IEnumerable<double> values)
    {
        var v = values.Select(x => 100 * x).ToArray();
        double mean = v.Average();
        double std = v.Length > 1 ? Math.Sqrt(v.Sum(x => (x - mean) * (x - mean)) / (v.Length - 1)) : 0;
        return string.Create(CultureInfo.InvariantCulture, $"{mean:F2} ± {std:F2}");
    }

    private static void WriteAtomically(string path, string text)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        File.WriteAllText(path + ".tmp", text);
        File.Move(path + ".tmp", path, overwrite: true);
    }
}
