using System.Globalization;
using CrossDistill.Training.Runs;

namespace CrossDistill.Cli.Reporting;

/// <summary>Progress as plain lines (CI, pipes, tests): one line per logged step interval and per epoch, and a summary.</summary>
public sealed class PlainReporter : ITrainingObserver
{
    private readonly TextWriter _out;
    private readonly DateTime _start = DateTime.UtcNow;
    private int _every = 1;
    private long _startStep;

    public PlainReporter(TextWriter output) => _out = output;

    public void OnRunStart(RunStart s)
    {
        _startStep = s.StartStep;
        _every = Math.Max(1, s.LogEvery);
        _out.WriteLine($"{(s.Resumed ? "resuming" : "starting")} run '{s.Name}' in {s.RunDir}: method {s.Method}, student {s.Student} ({Format.Count(s.StudentParameters)} parameters{(s.ExtraParameters > 0 ? $", +{Format.Count(s.ExtraParameters)} method parameters" : "")})");
        foreach (var t in s.Teachers) _out.WriteLine($"teacher: {t}");
        _out.WriteLine($"{s.Epochs} epochs × {s.StepsPerEpoch} steps of {s.BatchSize} images{(s.Ema ? ", with an EMA of the student" : "")}");
    }

    public void OnStep(StepReport r)
    {
        if (r.GlobalStep % _every != 0 && r.StepInEpoch != r.StepsPerEpoch) return;
        string losses = string.Join(" ", r.Losses.Select(kv => $"{kv.Key} {Format.Loss(kv.Value)}"));
        _out.WriteLine($"epoch {r.Epoch} step {r.StepInEpoch}/{r.StepsPerEpoch}: loss {Format.Loss(r.Total)} ({losses}) acc {Format.Percent(r.BatchAccuracy)} lr {r.Lr.ToString("G4", CultureInfo.InvariantCulture)} {r.ImagesPerSecond.ToString("F0", CultureInfo.InvariantCulture)} img/s, {Format.TimeLeft(_start, r.GlobalStep - _startStep, r.TotalSteps - r.GlobalStep)} left");
    }

    public void OnEpochEnd(EpochReport e)
    {
        string ema = e.ValEma is null ? "" : $", EMA acc {Format.Percent(e.ValEma.Accuracy)}";
        _out.WriteLine($"epoch {e.Epoch}/{e.Epochs} ({e.Seconds.ToString("F1", CultureInfo.InvariantCulture)} s): val acc {Format.Percent(e.Val.Accuracy)} top-5 {Format.Percent(e.Val.Top5)} AUROC {Format.Number(e.Val.Auroc)} loss {Format.Number(e.Val.Loss)}{ema}; saved {e.Checkpoint}");
    }

    public void OnMessage(string message) => _out.WriteLine(message);

    public void OnRunEnd(RunSummary s)
    {
        foreach (var line in Format.SummaryLines(s)) _out.WriteLine(line);
    }
}

internal static class Format
{
    public static string Count(long n) => n >= 1_000_000 ? (n / 1e6).ToString("F2", CultureInfo.InvariantCulture) + "M" : n >= 1_000 ? (n / 1e3).ToString("F1", CultureInfo.InvariantCulture) + "k" : n.ToString(CultureInfo.InvariantCulture);
    public static string Loss(double v) => double.IsFinite(v) ? v.ToString("F4", CultureInfo.InvariantCulture) : v.ToString(CultureInfo.InvariantCulture);
    public static string Number(double v) => double.IsFinite(v) ? v.ToString("F4", CultureInfo.InvariantCulture) : "n/a";
    public static string Percent(double v) => double.IsFinite(v) ? (100 * v).ToString("F2", CultureInfo.InvariantCulture) + "%" : "n/a";

    public static string TimeLeft(DateTime start, long done, long remaining)
    {
        if (done <= 0) return "?";
        var left = TimeSpan.FromSeconds((DateTime.UtcNow - start).TotalSeconds / done * remaining);
        return left.TotalHours >= 1 ? $"{(int)left.TotalHours}h{left.Minutes:D2}m" : $"{left.Minutes}m{left.Seconds:D2}s";
    }

    public static IEnumerable<string> SummaryLines(RunSummary s)
    {
        yield return s.Status == RunStatus.Completed
            ? $"finished {s.CompletedEpochs} epochs ({s.Steps} steps); student weights: {s.StudentFile}"
            : $"interrupted after {s.CompletedEpochs} of {s.Epochs} epochs ({s.Steps} steps); continue with --resume {s.RunDir}";
        if (s.BestEpoch >= 0) yield return $"accuracy: best {Percent(s.BestAccuracy)} (epoch {s.BestEpoch}), last {Percent(s.LastAccuracy)}";
        if (s.BestEmaEpoch >= 0) yield return $"EMA accuracy: best {Percent(s.BestEmaAccuracy)} (epoch {s.BestEmaEpoch}), last {Percent(s.LastEmaAccuracy)}";
    }
}
