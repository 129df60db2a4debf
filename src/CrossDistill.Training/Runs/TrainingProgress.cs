using System.Globalization;

namespace CrossDistill.Training.Runs;

/// <summary>Running sums of one epoch's training metrics (kept in checkpoints, so an interrupted epoch reports all its steps).</summary>
public sealed class EpochAccumulator
{
    /// <summary>Sum over steps of each loss term's batch mean, in the order the method returns them.</summary>
    public List<KeyValuePair<string, double>> LossSums { get; } = new();
    public double TotalSum { get; set; }
    public int Steps { get; set; }
    public long Samples { get; set; }
    public long Correct { get; set; }

    public void Add(IReadOnlyDictionary<string, float> losses, float total, int samples, int correct)
    {
        foreach (var (name, value) in losses)
        {
            int i = LossSums.FindIndex(kv => kv.Key == name);
            if (i < 0) LossSums.Add(new(name, value));
            else LossSums[i] = new(name, LossSums[i].Value + value);
        }
        TotalSum += total;
        Steps++;
        Samples += samples;
        Correct += correct;
    }

    public void Clear()
    {
        LossSums.Clear();
        TotalSum = 0;
        Steps = 0;
        Samples = 0;
        Correct = 0;
    }

    /// <summary>Mean losses (train/loss_*, train/loss_total) and accuracy on the training batches.</summary>
    public IEnumerable<KeyValuePair<string, double>> Means()
    {
        if (Steps == 0) yield break;
        foreach (var (name, sum) in LossSums) yield return new("train/" + name, sum / Steps);
        yield return new("train/loss_total", TotalSum / Steps);
        yield return new("train/accuracy", Samples == 0 ? double.NaN : (double)Correct / Samples);
    }

    public void Save(IDictionary<string, string> meta, string prefix)
    {
        meta[prefix + "losses"] = string.Join(";", LossSums.Select(kv => kv.Key + "=" + kv.Value.ToString("R", CultureInfo.InvariantCulture)));
        meta[prefix + "total"] = TotalSum.ToString("R", CultureInfo.InvariantCulture);
        meta[prefix + "steps"] = Steps.ToString(CultureInfo.InvariantCulture);
        meta[prefix + "samples"] = Samples.ToString(CultureInfo.InvariantCulture);
        meta[prefix + "correct"] = Correct.ToString(CultureInfo.InvariantCulture);
    }

    public void Load(IReadOnlyDictionary<string, string> meta, string prefix)
    {
        Clear();
        var losses = meta.GetValueOrDefault(prefix + "losses", "");
        foreach (var entry in losses.Split(';', StringSplitOptions.RemoveEmptyEntries))
        {
            int eq = entry.LastIndexOf('=');
            LossSums.Add(new(entry[..eq], double.Parse(entry[(eq + 1)..], CultureInfo.InvariantCulture)));
        }
        TotalSum = double.Parse(meta.GetValueOrDefault(prefix + "total", "0"), CultureInfo.InvariantCulture);
        Steps = int.Parse(meta.GetValueOrDefault(prefix + "steps", "0"), CultureInfo.InvariantCulture);
        Samples = long.Parse(meta.GetValueOrDefault(prefix + "samples", "0"), CultureInfo.InvariantCulture);
        Correct = long.Parse(meta.GetValueOrDefault(prefix + "correct", "0"), CultureInfo.InvariantCulture);
    }
}

/// <summary>Where a run is and how well it has done: the trainer's state besides the tensors.</summary>
public sealed class TrainingProgress
{
    /// <summary>Optimizer steps taken.</summary>
    public long GlobalStep { get; set; }

    /// <summary>Epochs fully trained and evaluated.</summary>
    public int CompletedEpochs { get; set; }

    public double BestAccuracy { get; set; } = double.NaN;
    public int BestEpoch { get; set; } = -1;
    public double LastAccuracy { get; set; } = double.NaN;
    public double BestEmaAccuracy { get; set; } = double.NaN;
    public int BestEmaEpoch { get; set; } = -1;
    public double LastEmaAccuracy { get; set; } = double.NaN;

    public EpochAccumulator Epoch { get; } = new();

    /// <summary>Notes a finished epoch's accuracies.</summary>
    public void Record(int epoch, double accuracy, double? emaAccuracy)
    {
        LastAccuracy = accuracy;
        if (double.IsNaN(BestAccuracy) || accuracy > BestAccuracy) (BestAccuracy, BestEpoch) = (accuracy, epoch);
        if (emaAccuracy is double ema)
        {
            LastEmaAccuracy = ema;
            if (double.IsNaN(BestEmaAccuracy) || ema > BestEmaAccuracy) (BestEmaAccuracy, BestEmaEpoch) = (ema, epoch);
        }
    }

    public void Save(IDictionary<string, string> meta)
    {
        meta["progress.global_step"] = GlobalStep.ToString(CultureInfo.InvariantCulture);
        meta["progress.completed_epochs"] = CompletedEpochs.ToString(CultureInfo.InvariantCulture);
        meta["progress.best_accuracy"] = BestAccuracy.ToString("R", CultureInfo.InvariantCulture);
        meta["progress.best_epoch"] = BestEpoch.ToString(CultureInfo.InvariantCulture);
        meta["progress.last_accuracy"] = LastAccuracy.ToString("R", CultureInfo.InvariantCulture);
        meta["progress.best_ema_accuracy"] = BestEmaAccuracy.ToString("R", CultureInfo.InvariantCulture);
        meta["progress.best_ema_epoch"] = BestEmaEpoch.ToString(CultureInfo.InvariantCulture);
        meta["progress.last_ema_accuracy"] = LastEmaAccuracy.ToString("R", CultureInfo.InvariantCulture);
        Epoch.Save(meta, "progress.epoch.");
    }

    public static TrainingProgress Load(IReadOnlyDictionary<string, string> meta)
    {
        string Get(string key) => meta.TryGetValue("progress." + key, out var v) ? v : throw new FormatException($"the metadata has no 'progress.{key}'");
        double D(string key) => double.Parse(Get(key), NumberStyles.Float, CultureInfo.InvariantCulture);
        int I(string key) => int.Parse(Get(key), CultureInfo.InvariantCulture);
        var progress = new TrainingProgress
        {
            GlobalStep = long.Parse(Get("global_step"), CultureInfo.InvariantCulture),
            CompletedEpochs = I("completed_epochs"),
            BestAccuracy = D("best_accuracy"),
            BestEpoch = I("best_epoch"),
            LastAccuracy = D("last_accuracy"),
            BestEmaAccuracy = D("best_ema_accuracy"),
            BestEmaEpoch = I("best_ema_epoch"),
            LastEmaAccuracy = D("last_ema_accuracy"),
        };
        progress.Epoch.Load(meta, "progress.epoch.");
        return progress;
    }
}
