using System.Diagnostics;
using CrossDistill.Engine;
using CrossDistill.Engine.Nn;
using CrossDistill.Engine.Optim;
using CrossDistill.Training.Config;
using CrossDistill.Training.Distillers;

namespace CrossDistill.Training.Runs;

/// <summary>
/// Trains a run: epochs of steps (each inside its own disposal scope, so memory stays flat), the
/// schedule stepped per optimizer step, gradient clipping, an EMA of the inference model, a guard
/// that stops on a non-finite loss term, evaluation and an atomic checkpoint after every epoch,
/// and the student exported at the end. Everything random draws from the run's generator and
/// the loader's seeded streams, so a seed fixes the final weights bit for bit, and a resumed run
/// ends with the same weights as an uninterrupted one.
/// </summary>
public sealed class Trainer
{
    public const string EmaStudentFile = "student_ema.safetensors";

    private readonly RunParts _run;
    private readonly string _runDir;
    private readonly TrainingProgress _progress;
    private readonly MetricsLog _metrics;
    private readonly ITrainingObserver _observer;
    private readonly bool _resumed;
    private string? _lastCheckpoint;

    private Trainer(RunParts run, string runDir, TrainingProgress progress, MetricsLog metrics, ITrainingObserver observer, bool resumed, string? lastCheckpoint)
    {
        _run = run;
        _runDir = runDir;
        _progress = progress;
        _metrics = metrics;
        _observer = observer;
        _resumed = resumed;
        _lastCheckpoint = lastCheckpoint;
    }

    public static string RunDirOf(RunConfig config) => Path.Combine(config.OutputDir, config.Name);

    /// <summary>Starts a new run in output_dir/name (which must not hold a run already).</summary>
    public static RunSummary Start(RunConfig config, RunKind kind, ITrainingObserver? observer = null, CancellationToken cancellation = default)
    {
        string runDir = RunDirOf(config);
        if (Checkpoint.List(runDir).Count > 0 || File.Exists(Path.Combine(runDir, RunBuilder.StudentFile)))
            throw new RunException($"the run directory '{runDir}' already holds a run; continue it with --resume {runDir}, or choose another name (--set name=...)");
        using var run = RunBuilder.Build(config, kind);
        Directory.CreateDirectory(runDir);
        File.WriteAllText(Path.Combine(runDir, RunBuilder.ResolvedConfigFile), run.ResolvedYaml());
        RunEnvironment.Write(runDir, config.Seed);
        var metrics = new MetricsLog(runDir);
        metrics.ResumeAt(-1);
        return new Trainer(run, runDir, new TrainingProgress(), metrics, observer ?? NullObserver.Instance, resumed: false, lastCheckpoint: null).Run(cancellation);
    }

    /// <summary>Continues the run in <paramref name="runDir"/> from its newest checkpoint.</summary>
    public static RunSummary Resume(string runDir, ITrainingObserver? observer = null, CancellationToken cancellation = default)
    {
        string resolved = Path.Combine(runDir, RunBuilder.ResolvedConfigFile);
        if (!Directory.Exists(runDir)) throw new RunException($"cannot resume: the run directory '{runDir}' does not exist");
        if (!File.Exists(resolved)) throw new RunException($"cannot resume: '{runDir}' is not a run directory (no {RunBuilder.ResolvedConfigFile})");
        var checkpoints = Checkpoint.List(runDir);
        if (checkpoints.Count == 0) throw new RunException($"cannot resume: '{runDir}' has no checkpoint yet (the run stopped before its first one); start it again");
        var (config, _) = ConfigLoader.Load<RunConfig>(resolved);
        // The run was made with the output dir it was started with; resume writes where the run is now.
        config.OutputDir = Path.GetDirectoryName(Path.GetFullPath(runDir))!;
        config.Name = Path.GetFileName(Path.GetFullPath(runDir));
        var method = DistillerRegistry.Get(config.Method.Name);
        using var run = RunBuilder.Build(config, method.NeedsTeacher ? RunKind.Distill : RunKind.Train);
        string latest = checkpoints[^1];
        var progress = Checkpoint.Load(latest, run);
        var metrics = new MetricsLog(runDir);
        metrics.ResumeAt(progress.GlobalStep);
        observer ??= NullObserver.Instance;
        observer.OnMessage($"resumed from {latest} (epoch {progress.CompletedEpochs + 1}, step {progress.GlobalStep})");
        return new Trainer(run, runDir, progress, metrics, observer, resumed: true, lastCheckpoint: latest).Run(cancellation);
    }

    private RunSummary Run(CancellationToken cancellation)
    {
        var previous = Generator.Default;
        int threads = Engine.Kernels.Workers.Threads;
        Generator.Default = _run.Rng;
        Engine.Kernels.Workers.Threads = _run.Config.Train.Threads;
        try
        {
            return Loop(cancellation);
        }
        finally
        {
            Generator.Default = previous;
            Engine.Kernels.Workers.Threads = threads;
        }
    }

    private RunSummary Loop(CancellationToken cancellation)
    {
        var config = _run.Config;
        var distiller = _run.Distiller;
        int epochs = config.Train.Epochs, stepsPerEpoch = _run.StepsPerEpoch;
        _observer.OnRunStart(new RunStart(config.Name, _runDir, _run.Method.Name, distiller.Student.ArchitectureName, _run.TeacherSources,
            distiller.Student.ParameterCount(), distiller.ExtraParameterCount(), epochs, stepsPerEpoch, _progress.CompletedEpochs, _progress.GlobalStep,
            config.Train.BatchSize, _resumed, _run.Ema is not null, config.Train.LogEvery));
        var trainable = distiller.TrainableParameters().Select(p => p.Parameter).ToList();
        var interval = new EpochAccumulator();
        var intervalClock = Stopwatch.StartNew();

        while (_progress.CompletedEpochs < epochs)
        {
            int epoch = _progress.CompletedEpochs;
            var epochClock = Stopwatch.StartNew();
            long epochSamplesAtStart = _progress.Epoch.Samples;
            distiller.Train();
            distiller.OnEpochStart(Context(epoch, _run.TrainLoader.Position));
            foreach (var batch in _run.TrainLoader)
            {
                using (batch) Step(batch, epoch, trainable, interval, intervalClock);
                // A stop on an epoch's last batch still finishes the epoch (evaluation and its checkpoint).
                if (cancellation.IsCancellationRequested && batch.Number < stepsPerEpoch - 1) return Interrupt();
            }

            _observer.OnEvaluating(epoch);
            var val = Evaluator.Evaluate(distiller.InferenceModel, _run.EvalLoader);
            var valEma = _run.Ema is { } ema ? Evaluator.Evaluate(ema.Model, _run.EvalLoader) : null;
            double seconds = epochClock.Elapsed.TotalSeconds;
            var values = new List<KeyValuePair<string, double>>(_progress.Epoch.Means())
            {
                new("train/lr", _run.Optimizer.ParamGroups[0].Lr),
            };
            values.AddRange(val.Named("val"));
            if (valEma is not null) values.AddRange(valEma.Named("val_ema"));
            values.Add(new("throughput/img_s", (_progress.Epoch.Samples - epochSamplesAtStart) / Math.Max(seconds, 1e-9)));
            values.Add(new("time/epoch_s", seconds));
            var record = new MetricsRecord("epoch", epoch + 1, _progress.GlobalStep, values);
            _progress.Record(epoch + 1, val.Accuracy, valEma?.Accuracy);
            _progress.CompletedEpochs++;
            _progress.Epoch.Clear();
            _metrics.Add(record);
            _metrics.WriteCsv();
            string checkpoint = SaveCheckpoint(epoch);
            _observer.OnEpochEnd(new EpochReport(epoch + 1, epochs, record, val, valEma, checkpoint, seconds));
            if (cancellation.IsCancellationRequested && _progress.CompletedEpochs < epochs) return Summary(RunStatus.Interrupted, null);
        }

        string student = Path.Combine(_runDir, RunBuilder.StudentFile);
        var metadata = new Dictionary<string, string>
        {
            ["architecture"] = distiller.Student.ArchitectureName,
            ["num_classes"] = distiller.Setup.NumClasses.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["method"] = _run.Method.Name,
        };
        distiller.InferenceModel.Save(student, metadata);
        _run.Ema?.Model.Save(Path.Combine(_runDir, EmaStudentFile), metadata);
        return Summary(RunStatus.Completed, student);
    }

    private StepContext Context(int epoch, int stepInEpoch) =>
        new(epoch, _run.Config.Train.Epochs, _progress.GlobalStep, stepInEpoch, _run.StepsPerEpoch, _run.Rng);

    private void Step(Data.Loading.Batch batch, int epoch, List<Tensor> trainable, EpochAccumulator interval, Stopwatch intervalClock)
    {
        var config = _run.Config;
        var distiller = _run.Distiller;
        double lr = _run.Optimizer.ParamGroups[0].Lr;
        var losses = new Dictionary<string, float>();
        float total;
        int correct;
        _run.Optimizer.ZeroGrad();
        using (DisposeScope.Enter())
        {
            var input = new DistillBatch(batch.Images, batch.Labels, batch.SoftTargets, batch.Indices, batch.SecondaryLabels);
            var context = Context(epoch, batch.Number);
            var output = distiller.ForwardTrain(input, context);
            var totalLoss = output.Total();
            foreach (var (name, loss) in output.Losses) losses[name] = loss.Item();
            total = totalLoss.Item();
            foreach (var (name, value) in losses)
                if (!float.IsFinite(value)) throw NonFinite(name, value, epoch, losses);
            if (!float.IsFinite(total)) throw NonFinite("loss_total", total, epoch, losses);
            totalLoss.Backward();
            if (config.Train.GradClip > 0)
            {
                float norm = GradClip.ClipGradNorm(trainable, config.Train.GradClip);
                if (!float.IsFinite(norm)) throw NonFinite("grad_norm", norm, epoch, losses);
            }
            _run.Optimizer.Step();
            _run.Scheduler.Step();
            _run.Ema?.Update();
            distiller.AfterStep(input, output, context);
            var predicted = Torch.Argmax(output.Logits.Detach(), 1).ToLongArray();
            var labels = batch.Labels.ToLongArray();
            correct = 0;
            for (int i = 0; i < labels.Length; i++) if (predicted[i] == labels[i]) correct++;
        }
        _run.Optimizer.ZeroGrad();
        _progress.GlobalStep++;
        _progress.Epoch.Add(losses, total, batch.Count, correct);
        interval.Add(losses, total, batch.Count, correct);
        double imagesPerSecond = interval.Samples / Math.Max(intervalClock.Elapsed.TotalSeconds, 1e-9);
        _observer.OnStep(new StepReport(epoch + 1, batch.Number + 1, _run.StepsPerEpoch, _progress.GlobalStep, _run.TotalSteps,
            losses, total, lr, (double)correct / batch.Count, imagesPerSecond));
        if (_progress.GlobalStep % config.Train.LogEvery == 0)
        {
            var values = new List<KeyValuePair<string, double>>(interval.Means())
            {
                new("train/lr", lr),
                new("throughput/img_s", imagesPerSecond),
            };
            _metrics.Add(new MetricsRecord("step", epoch + 1, _progress.GlobalStep, values));
            interval.Clear();
            intervalClock.Restart();
        }
    }

    private NonFiniteLossException NonFinite(string term, float value, int epoch, IReadOnlyDictionary<string, float> losses) =>
        new(term, value, epoch, _progress.GlobalStep, losses, _lastCheckpoint);

    private RunSummary Interrupt()
    {
        string checkpoint = SaveCheckpoint(_progress.CompletedEpochs);
        _observer.OnMessage($"interrupted: saved {checkpoint}; continue with --resume {_runDir}");
        return Summary(RunStatus.Interrupted, null);
    }

    private string SaveCheckpoint(int epoch)
    {
        string path = Path.Combine(_runDir, Checkpoint.Folder, Checkpoint.FileName(epoch + 1, _progress.GlobalStep));
        Checkpoint.Save(path, _run, _progress);
        _lastCheckpoint = path;
        var all = Checkpoint.List(_runDir);
        for (int i = 0; i < all.Count - _run.Config.Train.KeepCheckpoints; i++)
            if (Path.GetFullPath(all[i]) != Path.GetFullPath(path)) File.Delete(all[i]);
        return path;
    }

    private RunSummary Summary(RunStatus status, string? student)
    {
        var p = _progress;
        var summary = new RunSummary(status, _runDir, p.CompletedEpochs, _run.Config.Train.Epochs, p.GlobalStep,
            p.BestAccuracy, p.BestEpoch, p.LastAccuracy, p.BestEmaAccuracy, p.BestEmaEpoch, p.LastEmaAccuracy, _lastCheckpoint, student);
        _observer.OnRunEnd(summary);
        return summary;
    }
}
