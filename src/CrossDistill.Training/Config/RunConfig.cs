namespace CrossDistill.Training.Config;

/// <summary>
/// Everything a `train` or `distill` run needs, as written in a YAML file under configs/.
/// Keys are the snake_case names of these properties; `crossdistill config defaults` prints them
/// all with their defaults and descriptions. This file is the one place defaults are set.
/// </summary>
public sealed class RunConfig
{
    [ConfigDoc("Run name; the run is written to <output_dir>/<name>.")]
    [ConfigRequired] public string Name { get; set; } = "";

    [ConfigDoc("Directory that holds run directories.")]
    public string OutputDir { get; set; } = "runs";

    [ConfigDoc("Seed of every random choice in the run (init, data order, augmentation, dropout).")]
    public ulong Seed { get; set; }

    [ConfigDoc("The model being trained (the student when distilling).")]
    public ModelSection Model { get; set; } = new();

    [ConfigDoc("The frozen teacher (distill only).")]
    public TeacherSection? Teacher { get; set; }

    public DatasetSection Dataset { get; set; } = new();

    public MethodSection Method { get; set; } = new();

    public OptimizerSection Optimizer { get; set; } = new();

    public ScheduleSection Schedule { get; set; } = new();

    public TrainSection Train { get; set; } = new();
}

public sealed class ModelSection
{
    [ConfigDoc("Architecture name from `crossdistill models`, e.g. resnet18_cifar, vit_tiny_p4_32.")]
    [ConfigRequired] public string Name { get; set; } = "";

    [ConfigDoc("Architecture options (width_mult, depth, embed_dim, …), by their timm/torchvision names.")]
    public Dictionary<string, double> Options { get; set; } = new();

    [ConfigDoc("Stochastic depth rate (transformers, ConvNeXt).")]
    [ConfigRange(0, 1)] public float DropPathRate { get; set; }

    [ConfigDoc("Dropout before the classifier.")]
    [ConfigRange(0, 1)] public float DropRate { get; set; }

    [ConfigDoc("Initial weights (safetensors with PyTorch names), or null to start from scratch.")]
    public string? Weights { get; set; }
}

public sealed class TeacherSection
{
    [ConfigDoc("A finished run directory whose config and student.safetensors define the teacher.")]
    public string? Run { get; set; }

    [ConfigDoc("Or: the teacher's architecture name (with `weights`).")]
    public string? Name { get; set; }

    [ConfigDoc("Architecture options of `name`.")]
    public Dictionary<string, double> Options { get; set; } = new();

    [ConfigDoc("Or: the teacher's weights (safetensors) for `name`.")]
    public string? Weights { get; set; }
}

public sealed class DatasetSection
{
    [ConfigDoc("shapes (embedded), fashion_mnist, mnist, cifar10, cifar100.")]
    public string Name { get; set; } = "shapes";

    [ConfigDoc("Where the files are (null: the dataset's default location).")]
    public string? Root { get; set; }

    [ConfigDoc("Image side fed to the models (images are resized when it differs).")]
    [ConfigRange(8, 1024)] public int ImageSize { get; set; } = 32;

    [ConfigDoc("Use only the first N training images (0: all).")]
    [ConfigRange(0, int.MaxValue)] public int TrainSubset { get; set; }

    [ConfigDoc("Use only the first N test images (0: all).")]
    [ConfigRange(0, int.MaxValue)] public int TestSubset { get; set; }

    [ConfigDoc("Dataset-specific options (shapes: train_size, test_size, texture_prob, seed).")]
    public Dictionary<string, double> Options { get; set; } = new();

    public AugmentSection Augment { get; set; } = new();
}

public sealed class AugmentSection
{
    [ConfigDoc("Random crop with this much zero padding (0: off).")]
    [ConfigRange(0, 64)] public int RandomCropPadding { get; set; } = 4;

    [ConfigDoc("Random horizontal flip.")]
    public bool HorizontalFlip { get; set; } = true;

    [ConfigDoc("Mixup alpha (0: off).")]
    [ConfigRange(0, 10)] public float Mixup { get; set; }

    [ConfigDoc("CutMix alpha (0: off).")]
    [ConfigRange(0, 10)] public float Cutmix { get; set; }
}

public sealed class MethodSection
{
    [ConfigDoc("Distillation method: vanilla, kd, … (`crossdistill methods` lists them).")]
    public string Name { get; set; } = "vanilla";

    [ConfigDoc("The method's own hyper-parameters; each method documents and checks its keys.")]
    public ConfigNode? Params { get; set; }
}

public enum OptimizerKind { Sgd, Adamw }

public sealed class OptimizerSection
{
    [ConfigDoc("sgd or adamw; parameter groups exempt norms, biases and tokens from weight decay.")]
    public OptimizerKind Name { get; set; } = OptimizerKind.Sgd;

    [ConfigDoc("Peak learning rate (after warm-up).")]
    [ConfigRange(0, 10)] public float Lr { get; set; } = 0.05f;

    [ConfigDoc("SGD momentum.")]
    [ConfigRange(0, 1)] public float Momentum { get; set; } = 0.9f;

    [ConfigDoc("SGD Nesterov momentum.")]
    public bool Nesterov { get; set; } = true;

    [ConfigDoc("Weight decay; norms and biases are exempt.")]
    [ConfigRange(0, 1)] public float WeightDecay { get; set; } = 5e-4f;

    [ConfigDoc("AdamW betas.")]
    public float[] Betas { get; set; } = { 0.9f, 0.999f };

    [ConfigDoc("AdamW epsilon.")]
    [ConfigRange(0, 1)] public float Eps { get; set; } = 1e-8f;
}

public enum ScheduleKind { Cosine, Multistep, Constant }

public sealed class ScheduleSection
{
    [ConfigDoc("Learning-rate schedule, applied every step: cosine, multistep or constant (each after the warm-up).")]
    public ScheduleKind Name { get; set; } = ScheduleKind.Cosine;

    [ConfigDoc("Linear warm-up length in epochs (fractions allowed).")]
    [ConfigRange(0, 10000)] public float WarmupEpochs { get; set; }

    [ConfigDoc("Cosine floor.")]
    [ConfigRange(0, 10)] public float MinLr { get; set; } = 1e-5f;

    [ConfigDoc("Multistep: epochs at which the lr is multiplied by gamma.")]
    public int[] Milestones { get; set; } = Array.Empty<int>();

    [ConfigDoc("Multistep: the factor applied at each milestone.")]
    [ConfigRange(0, 1)] public float Gamma { get; set; } = 0.1f;
}

public sealed class TrainSection
{
    [ConfigDoc("Passes over the training set; the model is evaluated and checkpointed after each.")]
    [ConfigRange(1, 100000)] public int Epochs { get; set; } = 10;

    [ConfigDoc("Training batch size.")]
    [ConfigRange(1, 65536)] public int BatchSize { get; set; } = 64;

    [ConfigDoc("Evaluation batch size.")]
    [ConfigRange(1, 65536)] public int EvalBatchSize { get; set; } = 256;

    [ConfigDoc("Label smoothing ε of the cross-entropy terms.")]
    [ConfigRange(0, 1)] public float LabelSmoothing { get; set; }

    [ConfigDoc("Clip the global gradient norm to this value (0: off).")]
    [ConfigRange(0, 1e6)] public float GradClip { get; set; }

    [ConfigDoc("EMA decay of the student's weights (0: off); the EMA model is evaluated beside the raw one.")]
    [ConfigRange(0, 1)] public float Ema { get; set; }

    [ConfigDoc("Kernel threads.")]
    [ConfigRange(1, 256)] public int Threads { get; set; } = 2;

    [ConfigDoc("Data-loader prefetch threads.")]
    [ConfigRange(0, 16)] public int LoaderWorkers { get; set; } = 1;

    [ConfigDoc("Write a metrics line every N steps.")]
    [ConfigRange(1, 1000000)] public int LogEvery { get; set; } = 20;

    [ConfigDoc("How many of the newest checkpoints to keep in <run>/checkpoints.")]
    [ConfigRange(1, 1000)] public int KeepCheckpoints { get; set; } = 2;
}
