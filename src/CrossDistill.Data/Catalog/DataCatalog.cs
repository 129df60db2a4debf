using System.Globalization;
using CrossDistill.Data.Shapes;
using CrossDistill.Data.Variants;

namespace CrossDistill.Data.Catalog;

/// <summary>
/// The datasets CrossDistill knows by name, where their files are looked for, their splits and
/// their normalisation constants.
/// <para>Splits: "train" and "test"; for shapes also "cue-conflict", "silhouette" and
/// "texture-only"; for every dataset the evaluation variants of the test split:
/// "patch-shuffle-N" (an N×N grid; N must divide the image size) and "noise-S" (Gaussian noise of
/// CIFAR-10-C severity S = 1…5).</para>
/// </summary>
public static class DataCatalog
{
    public const string Shapes = "shapes";
    public const string Mnist = "mnist";
    public const string FashionMnist = "fashion-mnist";
    public const string Cifar10 = "cifar10";
    public const string Cifar100 = "cifar100";

    /// <summary>Where Debian's dataset-fashion-mnist package installs the files.</summary>
    public const string DebianFashionMnistRoot = "/usr/share/datasets/fashion-mnist";

    /// <summary>The environment variable naming the folder that holds one sub-folder per dataset (default ./data).</summary>
    public const string DataRootVariable = "CROSSDISTILL_DATA";

    public static readonly IReadOnlyList<string> Names = new[] { Shapes, FashionMnist, Mnist, Cifar10, Cifar100 };

    /// <summary>The grids of the default patch-shuffle splits (the 32-px analogues of IPViT's grids).</summary>
    public static readonly IReadOnlyList<int> PatchGrids = new[] { 2, 4, 8 };

    /// <summary>The canonical name of <paramref name="name"/> ("CIFAR-10" → "cifar10", "fashion_mnist" → "fashion-mnist").</summary>
    public static string Canonical(string name)
    {
        string key = new string(name.Trim().ToLowerInvariant().Where(char.IsLetterOrDigit).ToArray());
        return key switch
        {
            "shapes" => Shapes,
            "mnist" => Mnist,
            "fashionmnist" or "fmnist" => FashionMnist,
            "cifar10" => Cifar10,
            "cifar100" => Cifar100,
            _ => throw new ArgumentException($"Unknown dataset '{name}'; known: {string.Join(", ", Names)}."),
        };
    }

    /// <summary>The folder a dataset's files are read from when none is given; null for shapes, which has no files.</summary>
    public static string? DefaultRoot(string name)
    {
        string canonical = Canonical(name);
        if (canonical == Shapes) return null;
        if (canonical == FashionMnist && Directory.Exists(DebianFashionMnistRoot)) return DebianFashionMnistRoot;
        string dataRoot = Environment.GetEnvironmentVariable(DataRootVariable) is { Length: > 0 } env ? env : "data";
        return Path.Combine(dataRoot, canonical);
    }

    /// <summary>Every split name of a dataset of <paramref name="size"/>-pixel images.</summary>
    public static IReadOnlyList<string> Splits(string name, int size)
    {
        var splits = new List<string> { "train", "test" };
        if (Canonical(name) == Shapes) splits.AddRange(new[] { "cue-conflict", "silhouette", "texture-only" });
        splits.AddRange(PatchGrids.Where(g => size % g == 0).Select(g => $"patch-shuffle-{g}"));
        splits.AddRange(Enumerable.Range(1, GaussianNoise.Cifar10CSigmas.Count).Select(s => $"noise-{s}"));
        return splits;
    }

    /// <summary>
    /// Loads one split. <paramref name="root"/> defaults to <see cref="DefaultRoot"/>;
    /// <paramref name="shapes"/> sets up the shapes data; <paramref name="variantSeed"/> fixes
    /// the permutations and noise of the evaluation variants.
    /// </summary>
    public static Dataset Load(string name, string split = "train", string? root = null, ShapesOptions? shapes = null, ulong variantSeed = 0)
    {
        string canonical = Canonical(name);
        split = split.Trim().ToLowerInvariant();
        if (split.StartsWith("patch-shuffle-", StringComparison.Ordinal))
        {
            var (rows, columns) = ParseGrid(split["patch-shuffle-".Length..], canonical, split);
            return new PatchShuffledDataset(Load(canonical, "test", root, shapes), rows, columns, variantSeed);
        }
        if (split.StartsWith("noise-", StringComparison.Ordinal))
        {
            if (!int.TryParse(split["noise-".Length..], NumberStyles.None, CultureInfo.InvariantCulture, out int severity) || severity < 1 || severity > 5)
                throw new ArgumentException($"{canonical}: split '{split}' needs a noise severity 1-5 (noise-1 … noise-5).");
            return GaussianNoiseDataset.Severity(Load(canonical, "test", root, shapes), severity, variantSeed);
        }
        if (canonical == Shapes)
        {
            if (!ShapesDataset.TryParseSplit(split, out var shapesSplit))
                throw new ArgumentException($"shapes: unknown split '{split}'; known: {string.Join(", ", Splits(Shapes, (shapes ?? new ShapesOptions()).Size))}.");
            return ShapesDataset.Create(shapesSplit, shapes);
        }
        if (split is not ("train" or "test"))
            throw new ArgumentException($"{canonical}: unknown split '{split}'; known: train, test, patch-shuffle-N, noise-1 … noise-5.");
        string folder = root ?? DefaultRoot(canonical)!;
        return canonical switch
        {
            Mnist => RealDatasets.LoadIdx(Mnist, folder, split, ClassNames.Mnist),
            FashionMnist => RealDatasets.LoadIdx(FashionMnist, folder, split, ClassNames.FashionMnist),
            Cifar10 => RealDatasets.LoadCifar10(folder, split),
            Cifar100 => RealDatasets.LoadCifar100(folder, split),
            _ => throw new ArgumentException($"Unknown dataset '{name}'."),
        };
    }

    /// <summary>
    /// The usual normalisation constants of the real datasets (per-channel mean and std of the
    /// training images in [0, 1]); null for shapes, whose statistics depend on its options
    /// (use <see cref="NormalizationFor"/>).
    /// </summary>
    public static ChannelStatistics? KnownNormalization(string name) => Canonical(name) switch
    {
        Mnist => new ChannelStatistics(new[] { 0.1307 }, new[] { 0.3081 }),
        FashionMnist => new ChannelStatistics(new[] { 0.2860 }, new[] { 0.3530 }),
        Cifar10 => new ChannelStatistics(new[] { 0.4914, 0.4822, 0.4465 }, new[] { 0.2470, 0.2435, 0.2616 }),
        Cifar100 => new ChannelStatistics(new[] { 0.5071, 0.4865, 0.4409 }, new[] { 0.2673, 0.2564, 0.2762 }),
        _ => null,
    };

    /// <summary>The normalisation for a training set: the known constants, or measured on <paramref name="train"/>.</summary>
    public static ChannelStatistics NormalizationFor(Dataset train) => KnownNormalization(train.Name) ?? ChannelStatistics.Compute(train);

    private static (int Rows, int Columns) ParseGrid(string text, string dataset, string split)
    {
        var parts = text.Split('x');
        if (parts.Length is 1 or 2
            && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out int rows) && rows > 0
            && (parts.Length == 1 || int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out _)))
        {
            int columns = parts.Length == 1 ? rows : int.Parse(parts[1], CultureInfo.InvariantCulture);
            if (columns > 0) return (rows, columns);
        }
        throw new ArgumentException($"{dataset}: split '{split}' needs a grid size (patch-shuffle-4, or patch-shuffle-2x4).");
    }
}
