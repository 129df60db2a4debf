using System.Globalization;
using CrossDistill.Training.Runs;
using Spectre.Console;

namespace CrossDistill.Cli.Reporting;

/// <summary>
/// Progress on a terminal: a live bar per run (loss, accuracy, img/s, time left), a line per
/// epoch above it, and a summary table with best and last accuracy at the end.
/// </summary>
public sealed class LiveReporter : ITrainingObserver
{
    private readonly IAnsiConsole _console;
    private ProgressTask? _task;
    private ProgressContext? _context;
    private long _totalSteps;

    public LiveReporter(IAnsiConsole console) => _console = console;

    /// <summary>Runs <paramref name="run"/> inside a live progress display.</summary>
    public T Run<T>(Func<T> run)
    {
        T result = default!;
        _console.Progress()
            .AutoClear(false)
            .HideCompleted(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn())
            .Start(context =>
            {
                _context = context;
                result = run();
            });
        return result;
    }

    public void OnRunStart(RunStart s)
    {
        _console.MarkupLine($"[bold]{(s.Resumed ? "Resuming" : "Starting")} {Markup.Escape(s.Name)}[/] in {Markup.Escape(s.RunDir)}: method [green]{Markup.Escape(s.Method)}[/], student [blue]{Markup.Escape(s.Student)}[/] ({Format.Count(s.StudentParameters)} parameters{(s.ExtraParameters > 0 ? $", +{Format.Count(s.ExtraParameters)} method" : "")})");
        foreach (var t in s.Teachers) _console.MarkupLine($"teacher: {Markup.Escape(t)}");
        _totalSteps = (long)s.Epochs * s.StepsPerEpoch;
        _task = _context?.AddTask("starting", maxValue: Math.Max(1, _totalSteps));
        if (_task is not null) _task.Value = s.StartStep;
    }

    public void OnStep(StepReport r)
    {
        if (_task is null) return;
        _task.Value = r.GlobalStep;
        _task.Description = Markup.Escape($"epoch {r.Epoch} {r.StepInEpoch}/{r.StepsPerEpoch}  loss {Format.Loss(r.Total)}  acc {Format.Percent(r.BatchAccuracy)}  {r.ImagesPerSecond.ToString("F0", CultureInfo.InvariantCulture)} img/s");
    }

    public void OnEvaluating(int epoch)
    {
        if (_task is not null) _task.Description = $"epoch {epoch + 1}: evaluating";
    }

    public void OnEpochEnd(EpochReport e)
    {
        string ema = e.ValEma is null ? "" : $", EMA [bold]{Format.Percent(e.ValEma.Accuracy)}[/]";
        _console.MarkupLine($"epoch {e.Epoch}/{e.Epochs} ({e.Seconds.ToString("F1", CultureInfo.InvariantCulture)} s): val acc [bold]{Format.Percent(e.Val.Accuracy)}[/] top-5 {Format.Percent(e.Val.Top5)} AUROC {Format.Number(e.Val.Auroc)} loss {Format.Number(e.Val.Loss)}{ema}");
    }

    public void OnMessage(string message) => _console.MarkupLine(Markup.Escape(message));

    public void OnRunEnd(RunSummary s)
    {
        if (_task is not null)
        {
            if (s.Status == RunStatus.Completed) _task.Value = _task.MaxValue;
            _task.Description = s.Status == RunStatus.Completed ? "done" : "interrupted";
            _task.StopTask();
        }
        var table = new Table().Border(TableBorder.Rounded).Title(s.Status == RunStatus.Completed ? "run finished" : "run interrupted");
        table.AddColumn("model");
        table.AddColumn(new TableColumn("best accuracy").RightAligned());
        table.AddColumn(new TableColumn("best epoch").RightAligned());
        table.AddColumn(new TableColumn("last accuracy").RightAligned());
        if (s.BestEpoch >= 0) table.AddRow("student", Format.Percent(s.BestAccuracy), s.BestEpoch.ToString(CultureInfo.InvariantCulture), Format.Percent(s.LastAccuracy));
        if (s.BestEmaEpoch >= 0) table.AddRow("student (EMA)", Format.Percent(s.BestEmaAccuracy), s.BestEmaEpoch.ToString(CultureInfo.InvariantCulture), Format.Percent(s.LastEmaAccuracy));
        _console.Write(table);
        _console.MarkupLine(Markup.Escape(Format.SummaryLines(s).First()));
    }
}
