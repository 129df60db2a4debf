using System.Globalization;
using CrossDistill.Data;
using CrossDistill.Data.Catalog;
using CrossDistill.Data.Loading;
using CrossDistill.Data.Shapes;
using CrossDistill.Data.Transforms;
using CrossDistill.Engine;
using CrossDistill.Engine.IO;
using CrossDistill.Engine.Nn;
using CrossDistill.Engine.Optim;
using CrossDistill.Engine.Optim.Schedules;
using CrossDistill.Models;
using CrossDistill.Training.Config;
using CrossDistill.Training.Distillers;

namespace CrossDistill.Training.Runs;

/// <summary>What a run is started with: `train` trains a model alone (vanilla), `distill` needs a teacher.</summary>
public enum RunKind { Train, Distill }

/// <summary>Everything a run trains with, built from a <see cref="RunConfig"/>. Owns the models, the optimizer and the loaders' datasets.</summary>
public sealed class RunParts : IDisposable
{
    public required RunConfig Config { get; init; }
    public required DistillerInfo Method { get; init; }
    public required object? MethodParams { get; init; }
    public required Dataset TrainSet { get; init; }
    public required Dataset TestSet { get; init; }
    public required DataLoader TrainLoader { get; init; }
    public required DataLoader EvalLoader { get; init; }
    public required Distiller Distiller { get; init; }
    public required Optimizer Optimizer { get; init; }
    public required LrScheduler Scheduler { get; init; }
    public required ModelEma? Ema { get; init; }

    /// <summary>The run's generator: model init, dropout, drop-path and every method's random choice draw from it.</summary>
    public required Generator Rng { get; init; }

    /// <summary>Where each teacher came from, for the log.</summary>
    public required IReadOnlyList<string> TeacherSources { get; init; }

    public int StepsPerEpoch => TrainLoader.BatchesPerEpoch;

    public int TotalSteps => StepsPerEpoch * Config.Train.Epochs;

    /// <summary>The resolved config: every key, defaults and the method's bound params included.</summary>
    public string ResolvedYaml() => ConfigWriter.ToYaml(Config, new Dictionary<string, object?> { ["method.params"] = MethodParams });

    public void Dispose()
    {
        Optimizer.Dispose();
        Ema?.Dispose();
        foreach (var teacher in Distiller.Teachers) teacher.Dispose();
        Distiller.Dispose();
    }
}

/// <summary>Builds a run's data, models, method, optimizer and schedule from its config; config problems come out as <see cref="ConfigException"/> with key paths.</summary>
public static class RunBuilder
{
    public const string ResolvedConfigFile = "config.resolved.yaml";
    public const string StudentFile = "student.safetensors";

    private static readonly string[] ShapesOptionKeys = { "train_size", "test_size", "texture_prob", "seed" };

    public static RunParts Build(RunConfig config, RunKind kind)
    {
        var method = DistillerRegistry.Get(config.Method.Name);
        var methodParams = DistillerRegistry.BindParams(method, config.Method.Params);
        CheckKind(config, method, kind);
        CheckOptimizer(config);

        var previous = Generator.Default;
        var rng = new Generator(config.Seed);
        Generator.Default = rng;
        var disposables = new List<IDisposable>();
        try
        {
            var train = LoadDataset(config.Dataset, "train");
            var test = LoadDataset(config.Dataset, "test");
            if (config.Dataset.TrainSubset > 0 && config.Dataset.TrainSubset < train.Count) train = new SubsetDataset(train, config.Dataset.TrainSubset);
            if (config.Dataset.TestSubset > 0 && config.Dataset.TestSubset < test.Count) test = new SubsetDataset(test, config.Dataset.TestSubset);
            if (train.Count == 0) throw new ConfigException(new[] { "dataset: the training split has no images" });
            var normalization = DataCatalog.NormalizationFor(train);
            int size = config.Dataset.ImageSize;
            var trainLoader = new DataLoader(train, new DataLoaderOptions
            {
                BatchSize = config.Train.BatchSize,
                Shuffle = true,
                DropLast = train.Count > config.Train.BatchSize,
                Seed = config.Seed,
                Transform = TrainTransform(config.Dataset, train, normalization),
                BatchTransforms = BatchTransforms(config.Dataset.Augment),
                PrefetchThreads = config.Train.LoaderWorkers,
            });
            var evalLoader = EvalLoader(test, size, normalization, config.Train.EvalBatchSize, config.Train.LoaderWorkers);

            var modelConfig = new ModelConfig
            {
                NumClasses = train.Classes.Count,
                ImageSize = size,
                InChannels = train.Channels,
                DropRate = config.Model.DropRate,
                DropPathRate = config.Model.DropPathRate,
                Options = new Dictionary<string, double>(config.Model.Options),
            };
            VisionModel CreateStudent() => CreateModel(config.Model.Name, modelConfig, "model");
            var student = CreateStudent();
            disposables.Add(student);
            if (config.Model.Weights is { } weights) LoadWeights(student, weights, "model.weights");

            var teachers = new List<VisionModel>();
            var sources = new List<string>();
            if (method.NeedsTeacher)
            {
                var (teacher, source) = LoadTeacher(config, modelConfig);
                teachers.Add(teacher);
                sources.Add(source);
                disposables.Add(teacher);
            }

            var setup = new DistillerSetup(student, teachers, train.Classes.Count, train.Count, config.Train.LabelSmoothing, CreateStudent);
            var distiller = DistillerRegistry.Create(method, setup, methodParams);
            var optimizer = CreateOptimizer(config.Optimizer, distiller);
            disposables.Add(optimizer);
            var scheduler = CreateScheduler(config.Schedule, optimizer, trainLoader.BatchesPerEpoch, config.Train.Epochs);
            var ema = config.Train.Ema > 0 ? new ModelEma(distiller.CreateInferenceModel(), distiller.InferenceModel, config.Train.Ema) : null;
            return new RunParts
            {
                Config = config,
                Method = method,
                MethodParams = methodParams,
                TrainSet = train,
                TestSet = test,
                TrainLoader = trainLoader,
                EvalLoader = evalLoader,
                Distiller = distiller,
                Optimizer = optimizer,
                Scheduler = scheduler,
                Ema = ema,
                Rng = rng,
                TeacherSources = sources,
            };
        }
        catch
        {
            foreach (var d in disposables) d.Dispose();
            throw;
        }
        finally
        {
            Generator.Default = previous;
        }
    }

    private static void CheckKind(RunConfig config, DistillerInfo method, RunKind kind)
    {
        if (kind == RunKind.Train && method.NeedsTeacher)
            throw new ConfigException(new[] { $"method.name: '{method.Name}' distils from a teacher; run it with `crossdistill distill`, or use method vanilla to train a model alone" });
        if (kind == RunKind.Distill && !method.NeedsTeacher)
            throw new ConfigException(new[] { $"method.name: '{method.Name}' uses no teacher; run it with `crossdistill train`, or choose a distillation method (`crossdistill methods` lists them)" });
        if (method.NeedsTeacher && (config.Teacher is null || (config.Teacher.Run is null && config.Teacher.Name is null)))
            throw new ConfigException(new[] { $"teacher: method '{method.Name}' needs a teacher: set teacher.run to a finished run directory, or teacher.name and teacher.weights (a safetensors file)" });
    }

    private static void CheckOptimizer(RunConfig config)
    {
        var betas = config.Optimizer.Betas;
        if (betas.Length != 2 || betas.Any(b => !(b >= 0 && b < 1)))
            throw new ConfigException(new[] { $"optimizer.betas: expected two numbers in [0, 1), got [{string.Join(", ", betas.Select(b => b.ToString(CultureInfo.InvariantCulture)))}]" });
        if (config.Schedule.Milestones.Any(m => m < 0 || m > config.Train.Epochs))
            throw new ConfigException(new[] { $"schedule.milestones: epochs must lie in [0, {config.Train.Epochs}] (train.epochs), got [{string.Join(", ", config.Schedule.Milestones)}]" });
        if (config.Schedule.WarmupEpochs >= config.Train.Epochs && config.Schedule.Name == ScheduleKind.Cosine)
            throw new ConfigException(new[] { $"schedule.warmup_epochs: {config.Schedule.WarmupEpochs} leaves no cosine phase in {config.Train.Epochs} epochs" });
    }

    /// <summary>Loads a split as dataset.* says (shapes generated at dataset.image_size unless its options say otherwise).</summary>
    public static Dataset LoadDataset(DatasetSection section, string split)
    {
        string canonical;
        try { canonical = DataCatalog.Canonical(section.Name); }
        catch (ArgumentException e) { throw new ConfigException(new[] { $"dataset.name: {e.Message}" }); }
        var shapes = canonical == DataCatalog.Shapes ? ShapesOptions(section) : null;
        if (shapes is null && section.Options.Count > 0)
            throw new ConfigException(new[] { $"dataset.options.{section.Options.Keys.First()}: {canonical} takes no options" });
        try
        {
            return DataCatalog.Load(canonical, split, section.Root, shapes);
        }
        catch (Exception e) when (e is ArgumentException or IOException or Data.Formats.DataFormatException)
        {
            throw new RunException($"cannot load {canonical}/{split}: {e.Message}", e);
        }
    }

    private static ShapesOptions ShapesOptions(DatasetSection section)
    {
        var problems = new List<string>();
        foreach (var key in section.Options.Keys.Where(k => !ShapesOptionKeys.Contains(k)))
            problems.Add($"dataset.options.{key}: unknown option for shapes (known: {string.Join(", ", ShapesOptionKeys)})");
        var defaults = new ShapesOptions();
        var options = new ShapesOptions
        {
            Size = section.ImageSize,
            TrainCount = (int)section.Options.GetValueOrDefault("train_size", defaults.TrainCount),
            TestCount = (int)section.Options.GetValueOrDefault("test_size", defaults.TestCount),
            TextureProbability = section.Options.GetValueOrDefault("texture_prob", defaults.TextureProbability),
            Seed = (ulong)section.Options.GetValueOrDefault("seed", 0),
        };
        try { options.Validate(); }
        catch (ArgumentException e) { problems.Add($"dataset.options: {e.Message}"); }
        if (problems.Count > 0) throw new ConfigException(problems);
        return options;
    }

    private static ITransform TrainTransform(DatasetSection section, Dataset train, ChannelStatistics normalization)
    {
        var steps = new List<ITransform>();
        int size = section.ImageSize;
        if (train.Height != size || train.Width != size) steps.Add(new Resize(size, size));
        if (section.Augment.RandomCropPadding > 0) steps.Add(RandomCrop.Square(size, section.Augment.RandomCropPadding));
        if (section.Augment.HorizontalFlip) steps.Add(new RandomHorizontalFlip());
        steps.Add(new Normalize(normalization));
        return new Compose(steps.ToArray());
    }

    private static IReadOnlyList<IBatchTransform> BatchTransforms(AugmentSection augment)
    {
        if (augment.Mixup > 0 && augment.Cutmix > 0) return new IBatchTransform[] { new MixupOrCutMix(augment.Mixup, augment.Cutmix) };
        if (augment.Mixup > 0) return new IBatchTransform[] { new Mixup(augment.Mixup) };
        if (augment.Cutmix > 0) return new IBatchTransform[] { new CutMix(augment.Cutmix) };
        return Array.Empty<IBatchTransform>();
    }

    /// <summary>An in-order loader over <paramref name="dataset"/>, resized to <paramref name="size"/> and normalised as in training.</summary>
    public static DataLoader EvalLoader(Dataset dataset, int size, ChannelStatistics normalization, int batchSize, int prefetchThreads)
    {
        var steps = new List<ITransform>();
        if (dataset.Height != size || dataset.Width != size) steps.Add(new Resize(size, size));
        steps.Add(new Normalize(normalization));
        return new DataLoader(dataset, new DataLoaderOptions
        {
            BatchSize = batchSize,
            Shuffle = false,
            Transform = new Compose(steps.ToArray()),
            PrefetchThreads = prefetchThreads,
        });
    }

    public static VisionModel CreateModel(string name, ModelConfig config, string keyPath)
    {
        if (!ModelZoo.Contains(name))
            throw new ConfigException(new[] { $"{keyPath}.name: unknown model '{name}' (known models: {string.Join(", ", ModelZoo.Presets.Select(p => p.Name).Order(StringComparer.Ordinal))})" });
        try
        {
            return ModelZoo.Create(name, config);
        }
        catch (ArgumentException e)
        {
            throw new ConfigException(new[] { $"{keyPath}: {name} cannot be built for {config.InChannels}×{config.ImageSize}×{config.ImageSize} images and {config.NumClasses} classes: {e.Message}" });
        }
    }

    /// <summary>Loads a safetensors file into <paramref name="model"/> (strict); a missing file or wrong names are errors naming <paramref name="keyPath"/>.</summary>
    public static void LoadWeights(Module model, string path, string keyPath)
    {
        if (!File.Exists(path)) throw new ConfigException(new[] { $"{keyPath}: the file '{path}' does not exist" });
        try
        {
            model.Load(path);
        }
        catch (Exception e) when (e is StateDictException or SafetensorsException or IOException)
        {
            throw new RunException($"{keyPath}: cannot load '{path}': {e.Message}", e);
        }
    }

    private static (VisionModel Teacher, string Source) LoadTeacher(RunConfig config, ModelConfig studentConfig)
    {
        var section = config.Teacher!;
        if (section.Run is not null && section.Name is not null)
            throw new ConfigException(new[] { "teacher: give either teacher.run or teacher.name with teacher.weights, not both" });
        string name, weights, keyPath;
        Dictionary<string, double> options;
        if (section.Run is { } runDir)
        {
            keyPath = "teacher.run";
            string resolved = Path.Combine(runDir, ResolvedConfigFile);
            if (!Directory.Exists(runDir)) throw new ConfigException(new[] { $"teacher.run: the run directory '{runDir}' does not exist" });
            if (!File.Exists(resolved)) throw new ConfigException(new[] { $"teacher.run: '{runDir}' is not a run directory (no {ResolvedConfigFile})" });
            weights = Path.Combine(runDir, StudentFile);
            if (!File.Exists(weights)) throw new ConfigException(new[] { $"teacher.run: '{runDir}' has no {StudentFile}; the run has not finished (resume it first)" });
            RunConfig teacherRun;
            try { teacherRun = ConfigLoader.Load<RunConfig>(resolved).Config; }
            catch (ConfigException e) { throw new ConfigException(new[] { $"teacher.run: the teacher's config is not valid: {e.Message}" }); }
            name = teacherRun.Model.Name;
            options = teacherRun.Model.Options;
        }
        else
        {
            keyPath = "teacher";
            if (section.Weights is null) throw new ConfigException(new[] { "teacher.weights: required with teacher.name (a safetensors file with the teacher's weights)" });
            name = section.Name!;
            weights = section.Weights;
            options = section.Options;
        }
        var teacher = CreateModel(name, studentConfig with { DropRate = 0, DropPathRate = 0, Options = new Dictionary<string, double>(options) }, keyPath);
        try
        {
            LoadWeights(teacher, weights, section.Run is null ? "teacher.weights" : "teacher.run");
        }
        catch
        {
            teacher.Dispose();
            throw;
        }
        return (teacher, $"{name} from {weights}");
    }

    private static Optimizer CreateOptimizer(OptimizerSection section, Distiller distiller)
    {
        var groups = ParamGroups.SplitDecay(distiller.TrainableParameters(), section.WeightDecay, NoDecayNames(distiller));
        return section.Name switch
        {
            OptimizerKind.Sgd => new SGD(groups, section.Lr, section.Momentum, 0, section.WeightDecay, section.Nesterov && section.Momentum > 0),
            OptimizerKind.Adamw => new AdamW(groups, section.Lr, section.Betas[0], section.Betas[1], section.Eps, section.WeightDecay),
            _ => throw new ConfigException(new[] { $"optimizer.name: unsupported optimizer {section.Name}" }),
        };
    }

    /// <summary>Token and position embeddings are exempt from weight decay (timm's no_weight_decay), whatever their rank.</summary>
    private static IEnumerable<string> NoDecayNames(Distiller distiller) => distiller.TrainableParameters()
        .Select(p => p.Name)
        .Where(n => n.EndsWith("pos_embed", StringComparison.Ordinal) || n.EndsWith("cls_token", StringComparison.Ordinal) || n.EndsWith("dist_token", StringComparison.Ordinal));

    private static LrScheduler CreateScheduler(ScheduleSection section, Optimizer optimizer, int stepsPerEpoch, int epochs)
    {
        int total = stepsPerEpoch * epochs;
        int warmup = (int)Math.Round(section.WarmupEpochs * stepsPerEpoch);
        switch (section.Name)
        {
            case ScheduleKind.Cosine:
                return new CosineWithWarmup(optimizer, warmup, Math.Max(total, warmup + 1), section.MinLr);
            case ScheduleKind.Multistep:
            {
                var milestones = section.Milestones.Select(m => m * stepsPerEpoch).Order().ToArray();
                double gamma = section.Gamma;
                return new LambdaLr(optimizer, step =>
                {
                    double factor = step < warmup ? (double)step / warmup : 1;
                    int passed = 0;
                    while (passed < milestones.Length && milestones[passed] <= step) passed++;
                    return factor * Math.Pow(gamma, passed);
                });
            }
            default:
                return new LambdaLr(optimizer, step => step < warmup ? (double)step / warmup : 1);
        }
    }
}
