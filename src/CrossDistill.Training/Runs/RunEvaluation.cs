using CrossDistill.Data;
using CrossDistill.Data.Catalog;
using CrossDistill.Models;
using CrossDistill.Training.Config;

namespace CrossDistill.Training.Runs;

/// <summary>Evaluates trained weights on a split: those of a finished run, or any model's safetensors on a dataset.</summary>
public static class RunEvaluation
{
    /// <summary>
    /// The run's student (or its EMA) on <paramref name="split"/> of the run's dataset, prepared as
    /// in training (same image size, normalisation and subsets).
    /// </summary>
    public static (EvalResult Result, string Description) FromRun(string runDir, string split = "test", bool ema = false, string? weights = null, int? batchSize = null)
    {
        string resolved = Path.Combine(runDir, RunBuilder.ResolvedConfigFile);
        if (!File.Exists(resolved)) throw new RunException($"'{runDir}' is not a run directory (no {RunBuilder.ResolvedConfigFile})");
        var (config, _) = ConfigLoader.Load<RunConfig>(resolved);
        weights ??= Path.Combine(runDir, ema ? Trainer.EmaStudentFile : RunBuilder.StudentFile);
        if (!File.Exists(weights))
            throw new RunException($"'{weights}' does not exist{(ema ? " (was the run trained with train.ema?)" : " (has the run finished? resume it first)")}");
        var result = Evaluate(config.Model.Name, config.Model.Options, weights, config.Dataset, split, batchSize ?? config.Train.EvalBatchSize, config.Train.LoaderWorkers);
        return (result, $"{config.Model.Name} from {weights} on {DataCatalog.Canonical(config.Dataset.Name)}/{split}");
    }

    /// <summary><paramref name="model"/> with <paramref name="weights"/> on <paramref name="dataset"/>'s <paramref name="split"/>, normalised with the training set's statistics.</summary>
    public static (EvalResult Result, string Description) FromModel(string model, string weights, string dataset, string split = "test", string? root = null,
        int? imageSize = null, IReadOnlyDictionary<string, double>? options = null, int batchSize = 256)
    {
        var section = new DatasetSection { Name = dataset, Root = root, Augment = new AugmentSection() };
        if (imageSize is int size) section.ImageSize = size;
        else
        {
            var probe = RunBuilder.LoadDataset(new DatasetSection { Name = dataset, Root = root, Options = ShapesProbeOptions(dataset) }, "train");
            section.ImageSize = probe.Height;
        }
        if (!File.Exists(weights)) throw new RunException($"'{weights}' does not exist");
        var result = Evaluate(model, new Dictionary<string, double>(options ?? new Dictionary<string, double>()), weights, section, split, batchSize, 1);
        return (result, $"{model} from {weights} on {DataCatalog.Canonical(dataset)}/{split}");
    }

    private static Dictionary<string, double> ShapesProbeOptions(string dataset) =>
        DataCatalog.Canonical(dataset) == DataCatalog.Shapes ? new() { ["train_size"] = 1, ["test_size"] = 1 } : new();

    private static EvalResult Evaluate(string modelName, Dictionary<string, double> modelOptions, string weights, DatasetSection section, string split, int batchSize, int prefetchThreads)
    {
        Dataset train = RunBuilder.LoadDataset(section, "train");
        if (section.TrainSubset > 0 && section.TrainSubset < train.Count) train = new SubsetDataset(train, section.TrainSubset);
        Dataset data = RunBuilder.LoadDataset(section, split);
        if (split.Trim().ToLowerInvariant() == "test" && section.TestSubset > 0 && section.TestSubset < data.Count) data = new SubsetDataset(data, section.TestSubset);
        if (data.Count == 0) throw new RunException($"{data.FullName} has no images");
        var modelConfig = new ModelConfig { NumClasses = train.Classes.Count, ImageSize = section.ImageSize, InChannels = train.Channels, Options = modelOptions };
        using var model = RunBuilder.CreateModel(modelName, modelConfig, "model");
        RunBuilder.LoadWeights(model, weights, "weights");
        var loader = RunBuilder.EvalLoader(data, section.ImageSize, DataCatalog.NormalizationFor(train), batchSize, prefetchThreads);
        return Evaluator.Evaluate(model, loader);
    }
}
