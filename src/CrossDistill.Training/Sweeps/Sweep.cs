using System.Globalization;
using System.Text;
using System.Text.Json;
using CrossDistill.Training.Config;
using CrossDistill.Training.Distillers;
using CrossDistill.Training.Runs;

namespace CrossDistill.Training.Sweeps;

/// <summary>
/// One finished run of a sweep, as recorded in its summary.json. A run whose loss became NaN or
/// infinite is finished too: <see cref="Diverged"/> (its accuracies are 0 and left out of the tables), and the sweep goes on.
/// </summary>
public sealed record SweepResult(string Run, string Teacher, string Student, string Method, ulong Seed, double BestAccuracy, double LastAccuracy, double Seconds,
    bool Diverged = false, string? Failure = null);

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
        if (config.Methods.Any(m => !DistillerRegistry.Contains(m.Method ?? m.Name) || DistillerRegistry.Get(m.Method ?? m.Name).NeedsTeacher) && config.Teachers.Count == 0)
            throw new ConfigException(new[] { "teachers: methods that distil need at least one teacher" });
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
                    bool needsTeacher = !DistillerRegistry.Contains(methodName) || DistillerRegistry.Get(methodName).NeedsTeacher;
                    var teachers = needsTeacher ? _config.Teachers.Select(t => t.Name).ToArray() : new[] { "-" };
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
        _teacherResults.Add(RunCell(run, Path.Combine(_folder, teacher.Config), RunKind.Train, teacher.Set.Concat(overrides), "-", teacher.Name, "vanilla", 0, cancellation, isTeacher: true));
        return Path.Combine(Root, run);
    }

    private SweepResult RunCell(string run, string configPath, RunKind kind, IEnumerable<string> overrides, string teacher, string student, string method, ulong seed,
        CancellationToken cancellation, bool isTeacher = false)
    {
        string dir = Path.Combine(Root, run);
        string summaryPath = Path.Combine(dir, SummaryFile);
        if (File.Exists(summaryPath)) return JsonSerializer.Deserialize<SweepResult>(File.ReadAllText(summaryPath))!;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        SweepResult result;
        try
        {
            RunSummary summary;
            if (Checkpoint.List(dir).Count > 0) summary = Trainer.Resume(dir, _observer(run), cancellation);
            else
            {
                if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true); // started but never checkpointed
                var (config, _) = ConfigLoader.Load<RunConfig>(configPath, overrides.Concat(new[] { $"output_dir={Root}", $"name={run}" }));
                summary = Trainer.Start(config, kind, _observer(run), cancellation);
            }
            if (summary.Status != RunStatus.Completed) throw new OperationCanceledException($"sweep stopped during {run}; run the sweep again to continue");
            result = new SweepResult(run, teacher, student, method, seed, summary.BestAccuracy, summary.LastAccuracy, clock.Elapsed.TotalSeconds);
        }
        catch (NonFiniteLossException e) when (!isTeacher)
        {
            // A method that diverges is a result of the grid, not a reason to abandon it; a teacher
            // that diverges is (its students could not run), so it still stops the sweep.
            result = new SweepResult(run, teacher, student, method, seed, 0, 0, clock.Elapsed.TotalSeconds, Diverged: true, Failure: e.Message);
        }
        string tmp = summaryPath + ".tmp";
        File.WriteAllText(tmp, JsonSerializer.Serialize(result));
        File.Move(tmp, summaryPath, overwrite: true);
        return result;
    }

    private void WriteTables(IReadOnlyList<SweepResult> results)
    {
        var csv = new StringBuilder("run,teacher,student,method,seed,best_accuracy,last_accuracy,seconds,status\n");
        foreach (var r in results)
            csv.AppendLine(string.Create(CultureInfo.InvariantCulture, $"{r.Run},{r.Teacher},{r.Student},{r.Method},{r.Seed},{(r.Diverged ? "" : r.BestAccuracy.ToString("R", CultureInfo.InvariantCulture))},{(r.Diverged ? "" : r.LastAccuracy.ToString("R", CultureInfo.InvariantCulture))},{r.Seconds:F1},{(r.Diverged ? "diverged" : "completed")}"));
        WriteAtomically(Path.Combine(Root, "results.csv"), csv.ToString());

        var md = new StringBuilder($"# Sweep {_config.Name}\n\nMean ± sample standard deviation over seeds {string.Join(", ", _config.Seeds)} (test accuracy, %).\n\n");
        md.AppendLine("| student | teacher | method | best acc | last acc | runs | time per run |");
        md.AppendLine("| --- | --- | --- | ---: | ---: | ---: | ---: |");
        foreach (var g in results.GroupBy(r => (r.Student, r.Teacher, r.Method)))
        {
            var finished = g.Where(r => !r.Diverged).ToList();
            int diverged = g.Count() - finished.Count;
            string best = finished.Count == 0 ? "diverged" : MeanStd(finished.Select(r => r.BestAccuracy));
            string last = finished.Count == 0 ? "diverged" : MeanStd(finished.Select(r => r.LastAccuracy));
            string runs = diverged == 0 ? $"{g.Count()}" : $"{finished.Count} (+{diverged} diverged)";
            md.AppendLine($"| {g.Key.Student} | {g.Key.Teacher} | {g.Key.Method} | {best} | {last} | {runs} | {g.Average(r => r.Seconds).ToString("F0", CultureInfo.InvariantCulture)} s |");
        }
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
