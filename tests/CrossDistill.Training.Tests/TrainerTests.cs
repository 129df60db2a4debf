using CrossDistill.Training.Distillers;
using CrossDistill.Training.Runs;
using CrossDistill.Training.Tests.Support;

namespace CrossDistill.Training.Tests;

/// <summary>Stops the run (as Ctrl-C does) once a given global step has been taken.</summary>
internal sealed class StopAtStep : ITrainingObserver
{
    private readonly CancellationTokenSource _source;
    private readonly long _step;

    public StopAtStep(CancellationTokenSource source, long step) => (_source, _step) = (source, step);

    public void OnStep(StepReport step)
    {
        if (step.GlobalStep >= _step) _source.Cancel();
    }
}

public class TrainerTests
{
    private static byte[] Student(string runDir) => File.ReadAllBytes(Path.Combine(runDir, RunBuilder.StudentFile));

    [Fact]
    public void InterruptedAndResumedEndsWithTheSameWeightsAsAnUninterruptedRun()
    {
        using var temp = new TempFolder();
        // Dropout, EMA, mixup and cutmix all draw random numbers; warm-up and cosine run per step.
        string[] overrides = { "model.drop_rate=0.2", "train.ema=0.9", "dataset.augment.mixup=0.4", "dataset.augment.cutmix=1.0", "train.grad_clip=5", "train.label_smoothing=0.1" };
        var whole = Trainer.Start(TestRuns.Config(TestRuns.Yaml("whole", temp.Path), overrides), RunKind.Train);
        Assert.Equal(RunStatus.Completed, whole.Status);

        var config = TestRuns.Config(TestRuns.Yaml("split", temp.Path), overrides);
        using (var stop = new CancellationTokenSource())
        {
            // Step 4 is inside the first epoch (6 steps per epoch): the checkpoint is written mid-epoch.
            var first = Trainer.Start(config, RunKind.Train, new StopAtStep(stop, 4), stop.Token);
            Assert.Equal(RunStatus.Interrupted, first.Status);
            Assert.Equal(4, first.Steps);
            Assert.False(File.Exists(Path.Combine(first.RunDir, RunBuilder.StudentFile)));
        }
        string runDir = Path.Combine(temp.Path, "split");
        using (var stop = new CancellationTokenSource())
        {
            // Interrupted again after an epoch boundary, then finished.
            var second = Trainer.Resume(runDir, new StopAtStep(stop, 8), stop.Token);
            Assert.Equal(RunStatus.Interrupted, second.Status);
        }
        var resumed = Trainer.Resume(runDir);
        Assert.Equal(RunStatus.Completed, resumed.Status);

        Assert.Equal(Student(whole.RunDir), Student(runDir));
        Assert.Equal(File.ReadAllBytes(Path.Combine(whole.RunDir, Trainer.EmaStudentFile)), File.ReadAllBytes(Path.Combine(runDir, Trainer.EmaStudentFile)));
        Assert.Equal(whole.BestAccuracy, resumed.BestAccuracy);
        Assert.Equal(whole.LastEmaAccuracy, resumed.LastEmaAccuracy);
        // The resumed run's metrics hold each step interval and epoch once, as the uninterrupted run's.
        var a = new MetricsLog(whole.RunDir);
        a.ResumeAt(long.MaxValue);
        var b = new MetricsLog(runDir);
        b.ResumeAt(long.MaxValue);
        Assert.Equal(a.Records.Select(r => (r.Kind, r.Epoch, r.Step)), b.Records.Select(r => (r.Kind, r.Epoch, r.Step)));
        Assert.Equal(a.Records.Where(r => r.Kind == "epoch").Select(r => r["train/loss_ce"]), b.Records.Where(r => r.Kind == "epoch").Select(r => r["train/loss_ce"]));
    }

    [Fact]
    public void TheSameSeedGivesBitIdenticalWeightsAndAnotherSeedDoesNot()
    {
        using var temp = new TempFolder();
        var a = Trainer.Start(TestRuns.Config(TestRuns.Yaml("a", temp.Path, model: "tiny_vit", epochs: 1), "model.drop_path_rate=0.1", "optimizer.name=adamw", "optimizer.lr=0.002"), RunKind.Train);
        var b = Trainer.Start(TestRuns.Config(TestRuns.Yaml("b", temp.Path, model: "tiny_vit", epochs: 1), "model.drop_path_rate=0.1", "optimizer.name=adamw", "optimizer.lr=0.002"), RunKind.Train);
        var c = Trainer.Start(TestRuns.Config(TestRuns.Yaml("c", temp.Path, model: "tiny_vit", epochs: 1), "model.drop_path_rate=0.1", "optimizer.name=adamw", "optimizer.lr=0.002", "seed=4"), RunKind.Train);
        Assert.Equal(Student(a.RunDir), Student(b.RunDir));
        Assert.NotEqual(Student(a.RunDir), Student(c.RunDir));
    }

    [Fact]
    public void TheNanGuardNamesTheLossTermAndLeavesTheLastGoodCheckpoint()
    {
        DistillerRegistry.Register(typeof(NanFromStep));
        using var temp = new TempFolder();
        // 6 steps per epoch: epoch 1 finishes (checkpoint at step 6), loss_reg turns NaN at step 8.
        var config = TestRuns.Config(TestRuns.Yaml("nan", temp.Path, method: "test_nan_from_step", epochs: 3), "method.params.step=8");
        var e = Assert.Throws<NonFiniteLossException>(() => Trainer.Start(config, RunKind.Train));
        Assert.Equal("loss_reg", e.Term);
        Assert.Contains("loss_reg is NaN", e.Message);
        Assert.Contains("epoch 2, step 9", e.Message);
        string runDir = Path.Combine(temp.Path, "nan");
        var checkpoints = Checkpoint.List(runDir);
        Assert.Single(checkpoints);
        Assert.Equal(checkpoints[0], e.LastCheckpoint);
        Assert.Contains(Checkpoint.FileName(1, 6), e.Message);
        Assert.False(File.Exists(Path.Combine(runDir, RunBuilder.StudentFile)));
        // The checkpoint left behind is whole: the run resumes from it (and fails again at the same step).
        var again = Assert.Throws<NonFiniteLossException>(() => Trainer.Resume(runDir));
        Assert.Equal(e.Step, again.Step);
    }

    [Fact]
    public void ADamagedCheckpointIsRefusedAndThePreviousOneIsKept()
    {
        using var temp = new TempFolder();
        var run = Trainer.Start(TestRuns.Config(TestRuns.Yaml("damaged", temp.Path, epochs: 2)), RunKind.Train);
        var checkpoints = Checkpoint.List(run.RunDir);
        Assert.Equal(2, checkpoints.Count);
        string newest = checkpoints[^1], previous = checkpoints[0];
        var bytes = File.ReadAllBytes(newest);
        File.WriteAllBytes(newest, bytes[..(bytes.Length * 2 / 3)]);
        var e = Assert.Throws<RunException>(() => Trainer.Resume(run.RunDir));
        Assert.Contains(newest, e.Message);
        Assert.Contains("truncated", e.Message);
        Assert.Contains(previous, e.Message);
        Assert.True(File.Exists(previous));

        // A flipped byte inside the tensor data is caught by the checksum.
        var flipped = File.ReadAllBytes(previous);
        flipped[^5] ^= 0x40;
        string copy = Path.Combine(Path.GetDirectoryName(previous)!, Checkpoint.FileName(9, 999));
        File.WriteAllBytes(copy, flipped);
        var e2 = Assert.Throws<RunException>(() => Trainer.Resume(run.RunDir));
        Assert.Contains("checksum", e2.Message);
        File.Delete(copy);
        File.Delete(newest);

        // With the damaged files moved away, the previous checkpoint resumes (the run is complete, so nothing is trained).
        var resumed = Trainer.Resume(run.RunDir);
        Assert.Equal(RunStatus.Completed, resumed.Status);
    }

    [Fact]
    public void ARunWritesMetricsConfigEnvironmentAndCheckpoints()
    {
        using var temp = new TempFolder();
        var run = Trainer.Start(TestRuns.Config(TestRuns.Yaml("files", temp.Path, epochs: 2), "train.ema=0.5", "train.keep_checkpoints=1"), RunKind.Train);
        Assert.Single(Checkpoint.List(run.RunDir));
        var log = new MetricsLog(run.RunDir);
        log.ResumeAt(long.MaxValue);
        var epochs = log.Records.Where(r => r.Kind == "epoch").ToList();
        Assert.Equal(2, epochs.Count);
        foreach (var key in new[] { "train/loss_ce", "train/loss_total", "train/lr", "val/accuracy", "val/top5", "val/auroc", "val/loss", "val_ema/accuracy", "throughput/img_s" })
            Assert.True(epochs[^1].Has(key), key);
        Assert.Contains(log.Records, r => r.Kind == "step" && r.Has("train/loss_ce") && r.Has("train/lr"));
        var csv = File.ReadAllLines(Path.Combine(run.RunDir, MetricsLog.CsvFile));
        Assert.StartsWith("kind,epoch,step,train/loss_ce", csv[0]);
        Assert.Equal(log.Records.Count + 1, csv.Length);
        var resolved = File.ReadAllText(Path.Combine(run.RunDir, RunBuilder.ResolvedConfigFile));
        Assert.Contains("ema: 0.5", resolved);
        Assert.Contains("label_smoothing: 0", resolved);
        var env = File.ReadAllText(Path.Combine(run.RunDir, RunEnvironment.File));
        Assert.Contains("\"seed\": 3", env);
        Assert.Contains("\"vector512\"", env);
        Assert.True(File.Exists(Path.Combine(run.RunDir, Trainer.EmaStudentFile)));
        // The exported student has the model's own (PyTorch) names, without the distiller's prefix.
        var exported = Engine.IO.Safetensors.Load(Path.Combine(run.RunDir, RunBuilder.StudentFile));
        Assert.Contains("fc.weight", exported.Keys);
        Assert.Contains("stages.0.bn.running_mean", exported.Keys);
        foreach (var t in exported.Values) t.Dispose();
        Assert.Throws<RunException>(() => Trainer.Start(TestRuns.Config(TestRuns.Yaml("files", temp.Path)), RunKind.Train));
    }
}
