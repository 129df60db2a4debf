namespace CrossDistill.Training.Runs;

/// <summary>The shape of a run as it starts (or resumes).</summary>
public sealed record RunStart(string Name, string RunDir, string Method, string Student, IReadOnlyList<string> Teachers,
    long StudentParameters, long ExtraParameters, int Epochs, int StepsPerEpoch, int StartEpoch, long StartStep, int BatchSize, bool Resumed, bool Ema, int LogEvery);

/// <summary>One optimizer step: its loss terms, rate and batch accuracy, and the images per second of the interval.</summary>
public sealed record StepReport(int Epoch, int StepInEpoch, int StepsPerEpoch, long GlobalStep, long TotalSteps,
    IReadOnlyDictionary<string, float> Losses, float Total, double Lr, double BatchAccuracy, double ImagesPerSecond);

/// <summary>A finished epoch: train means, evaluation of the raw and EMA models, and the checkpoint written.</summary>
public sealed record EpochReport(int Epoch, int Epochs, MetricsRecord Metrics, EvalResult Val, EvalResult? ValEma, string Checkpoint, double Seconds);

public enum RunStatus { Completed, Interrupted }

/// <summary>How a run ended.</summary>
public sealed record RunSummary(RunStatus Status, string RunDir, int CompletedEpochs, int Epochs, long Steps,
    double BestAccuracy, int BestEpoch, double LastAccuracy, double BestEmaAccuracy, int BestEmaEpoch, double LastEmaAccuracy,
    string? Checkpoint, string? StudentFile);

/// <summary>Receives a run's progress (the CLI draws it; tests record it). Called on the training thread.</summary>
public interface ITrainingObserver
{
    void OnRunStart(RunStart start) { }
    void OnStep(StepReport step) { }
    void OnEvaluating(int epoch) { }
    void OnEpochEnd(EpochReport epoch) { }
    void OnMessage(string message) { }
    void OnRunEnd(RunSummary summary) { }
}

/// <summary>Ignores everything.</summary>
public sealed class NullObserver : ITrainingObserver
{
    public static readonly NullObserver Instance = new();
}
