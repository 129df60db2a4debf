using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using CrossDistill.Cli.Reporting;
using CrossDistill.Training.Config;
using CrossDistill.Training.Runs;

namespace CrossDistill.Cli.Commands;

/// <summary>
/// `crossdistill quickstart`: the whole story on the embedded `shapes` data with no set-up: train
/// a small CNN teacher, distil a small ViT student from it with vanilla, kd, fitnet and pat, then
/// print a table and draw the learning curves. The two configs are configs/quickstart/*.yaml.
/// </summary>
public static class QuickstartCommand
{
    /// <summary>The methods the student is trained with, and their parameters for these small models.</summary>
    private static readonly (string Method, string[] Overrides)[] Students =
    {
        ("vanilla", Array.Empty<string>()),
        ("kd", new[] { "method.params.temperature=4" }),
        ("fitnet", Array.Empty<string>()),
        ("pat", new[] { "method.params.dim=128", "method.params.num_queries=16", "method.params.heads=4" }),
    };

    public static Command Create()
    {
        var configs = new Option<string>("--configs") { Description = "Folder with teacher.yaml and student.yaml.", DefaultValueFactory = _ => Path.Combine("configs", "quickstart") };
        var output = new Option<string?>("--output-dir") { Description = "Where the runs go (default: runs/quickstart-<time>)." };
        var set = new Option<string[]>("--set") { Description = "Override a key of both configs: --set key.path=value (repeatable).", Arity = ArgumentArity.ZeroOrMore };
        var command = new Command("quickstart", "Train a small CNN teacher on the embedded shapes data, distil a small ViT from it with vanilla, kd, fitnet and pat, and compare.") { configs, output, set };
        command.SetAction(result =>
        {
            var writer = result.InvocationConfiguration.Output;
            string folder = result.GetValue(configs)!;
            string runs = result.GetValue(output) ?? Path.Combine("runs", "quickstart-" + DateTime.Now.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture));
            var shared = result.GetValue(set) ?? Array.Empty<string>();
            var rows = new List<(string Name, RunSummary Summary, TimeSpan Time)>();
            var curves = new List<(string Name, double[] Accuracy)>();

            var teacher = RunOne(writer, Path.Combine(folder, "teacher.yaml"), RunKind.Train, shared.Append($"output_dir={runs}"), curves, "teacher");
            rows.Add(("teacher (CNN)", teacher.Summary, teacher.Time));
            foreach (var (method, overrides) in Students)
            {
                var o = shared.Concat(overrides).Concat(new[] { $"output_dir={runs}", $"name=student_{method}", $"method.name={method}", $"teacher.run={teacher.Summary.RunDir}" });
                var student = RunOne(writer, Path.Combine(folder, "student.yaml"), method == "vanilla" ? RunKind.Train : RunKind.Distill, o, curves, method);
                rows.Add(($"student (ViT), {method}", student.Summary, student.Time));
            }

            writer.WriteLine();
            writer.WriteLine($"{"run",-24} {"best acc",9} {"last acc",9} {"time",8}");
            foreach (var (name, s, time) in rows)
                writer.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name,-24} {100 * s.BestAccuracy,8:F2}% {100 * s.LastAccuracy,8:F2}% {time.TotalSeconds,7:F0}s"));
            string chart = Path.Combine(runs, "curves.png");
            LearningCurves.Write(chart, "validation accuracy per epoch", curves);
            writer.WriteLine();
            writer.WriteLine($"runs written to {runs}/ (metrics.jsonl, metrics.csv, student.safetensors per run); learning curves: {chart}");
            return 0;
        });
        return command;
    }

    private static (RunSummary Summary, TimeSpan Time) RunOne(TextWriter writer, string configPath, RunKind kind, IEnumerable<string> overrides, List<(string, double[])> curves, string label)
    {
        writer.WriteLine();
        writer.WriteLine($"== {label}: {configPath}");
        var recorder = new CurveRecorder(RunSupport.CreateObserver(writer));
        var clock = Stopwatch.StartNew();
        RunSummary summary;
        try
        {
            var (config, _) = ConfigLoader.Load<RunConfig>(configPath, overrides);
            summary = Trainer.Start(config, kind, recorder);
        }
        catch (ConfigException e) { throw new CliException(e.Message); }
        catch (RunException e) { throw new CliException(e.Message); }
        if (summary.Status != RunStatus.Completed) throw new CliException($"the {label} run stopped before the end ({summary.RunDir}).", RunSupport.InterruptedExitCode);
        curves.Add((label, recorder.Accuracy.ToArray()));
        return (summary, clock.Elapsed);
    }

    /// <summary>Passes everything on and keeps each epoch's validation accuracy.</summary>
    private sealed class CurveRecorder : ITrainingObserver
    {
        private readonly ITrainingObserver _inner;

        public CurveRecorder(ITrainingObserver inner) => _inner = inner;

        public List<double> Accuracy { get; } = new();

        public void OnRunStart(RunStart start) => _inner.OnRunStart(start);
        public void OnStep(StepReport step) => _inner.OnStep(step);
        public void OnEvaluating(int epoch) => _inner.OnEvaluating(epoch);
        public void OnMessage(string message) => _inner.OnMessage(message);
        public void OnRunEnd(RunSummary summary) => _inner.OnRunEnd(summary);

        public void OnEpochEnd(EpochReport epoch)
        {
            Accuracy.Add(epoch.Val.Accuracy);
            _inner.OnEpochEnd(epoch);
        }
    }
}
