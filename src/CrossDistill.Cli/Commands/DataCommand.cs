using System.CommandLine;
using System.Globalization;
using CrossDistill.Data;
using CrossDistill.Data.Catalog;
using CrossDistill.Data.Formats;
using CrossDistill.Data.IO;
using CrossDistill.Data.Shapes;
using CrossDistill.Engine;

namespace CrossDistill.Cli.Commands;

/// <summary>`crossdistill data info|preview`: inspect a dataset and look at its samples.</summary>
public static class DataCommand
{
    public static Command Create()
    {
        var command = new Command("data", "Inspect datasets: sizes, classes, statistics, sample grids.");
        command.Subcommands.Add(CreateInfo());
        command.Subcommands.Add(CreatePreview());
        return command;
    }

    private sealed class CommonOptions
    {
        public readonly Option<string> Dataset = new("--dataset", "-d")
        {
            Description = $"Dataset name: {string.Join(", ", DataCatalog.Names)}.",
            Required = true,
        };

        public readonly Option<string?> Root = new("--root")
        {
            Description = $"Folder holding the dataset's files (default: {DataCatalog.DebianFashionMnistRoot} for fashion-mnist, else ${DataCatalog.DataRootVariable}/NAME or ./data/NAME).",
        };

        public readonly Option<int> Size = new("--size") { Description = "shapes: image side in pixels.", DefaultValueFactory = _ => 32 };
        public readonly Option<int> TrainCount = new("--train-count") { Description = "shapes: training images.", DefaultValueFactory = _ => 10_000 };
        public readonly Option<int> TestCount = new("--test-count") { Description = "shapes: test images (and images per evaluation split).", DefaultValueFactory = _ => 2_000 };
        public readonly Option<double> TextureProbability = new("--texture-probability") { Description = "shapes: chance that a shape wears its own class's texture.", DefaultValueFactory = _ => 0.9 };
        public readonly Option<ulong> Seed = new("--seed") { Description = "Seed of the shapes data, of the evaluation variants and of the preview's choice of samples.", DefaultValueFactory = _ => 0UL };

        public void AddTo(Command command)
        {
            foreach (var option in new Option[] { Dataset, Root, Size, TrainCount, TestCount, TextureProbability, Seed }) command.Options.Add(option);
        }

        public ShapesOptions Shapes(ParseResult result) => new()
        {
            Size = result.GetValue(Size),
            TrainCount = result.GetValue(TrainCount),
            TestCount = result.GetValue(TestCount),
            TextureProbability = result.GetValue(TextureProbability),
            Seed = result.GetValue(Seed),
        };

        public Dataset Load(ParseResult result, string split)
        {
            string name = result.GetValue(Dataset)!;
            return Guard(() => DataCatalog.Load(name, split, result.GetValue(Root), Shapes(result), result.GetValue(Seed)));
        }
    }

    private static Command CreateInfo()
    {
        var common = new CommonOptions();
        var command = new Command("info", "Print a dataset's sizes, classes, splits and per-channel mean/std of the training images.");
        common.AddTo(command);
        command.SetAction(result =>
        {
            var output = result.InvocationConfiguration.Output;
            var train = common.Load(result, "train");
            var test = common.Load(result, "test");
            string root = train.Name == DataCatalog.Shapes ? "(generated, no files)" : Path.GetFullPath(result.GetValue(common.Root) ?? DataCatalog.DefaultRoot(train.Name)!);
            output.WriteLine($"dataset: {train.Name}");
            output.WriteLine($"root: {root}");
            output.WriteLine($"images: {train.Channels}×{train.Height}×{train.Width} (C×H×W)");
            output.WriteLine($"train: {train.Count} images, {DescribeClassCounts(train)}");
            output.WriteLine($"test: {test.Count} images, {DescribeClassCounts(test)}");
            output.WriteLine($"splits: {string.Join(", ", DataCatalog.Splits(train.Name, Math.Min(train.Height, train.Width)))}");
            output.WriteLine($"classes ({train.Classes.Count}): {string.Join(", ", train.Classes)}");
            if (train.SecondaryLabelName is { } secondary && train.SecondaryClasses is { } secondaryClasses)
                output.WriteLine($"secondary label '{secondary}' ({secondaryClasses.Count}): {string.Join(", ", secondaryClasses)}");
            var stats = ChannelStatistics.Compute(train);
            output.WriteLine($"train mean: {FormatValues(stats.Mean)}");
            output.WriteLine($"train std:  {FormatValues(stats.Std)}");
            if (DataCatalog.KnownNormalization(train.Name) is { } known)
                output.WriteLine($"normalisation used: mean {FormatValues(known.Mean)}, std {FormatValues(known.Std)} (published constants)");
            return 0;
        });
        return command;
    }

    private static Command CreatePreview()
    {
        var common = new CommonOptions();
        var split = new Option<string>("--split", "-s") { Description = "Split to draw from (train, test, cue-conflict, silhouette, texture-only, patch-shuffle-N, noise-1…5).", DefaultValueFactory = _ => "train" };
        var outPath = new Option<string>("--out", "-o") { Description = "The PNG file to write.", Required = true };
        var count = new Option<int>("--count", "-n") { Description = "Number of samples.", DefaultValueFactory = _ => 32 };
        var columns = new Option<int>("--columns") { Description = "Samples per row.", DefaultValueFactory = _ => 8 };
        var scale = new Option<int?>("--scale") { Description = "Pixels per image pixel (default: images at least 64 px wide)." };
        var command = new Command("preview", "Write a PNG grid of random samples of a split with their labels.");
        common.AddTo(command);
        foreach (var option in new Option[] { split, outPath, count, columns, scale }) command.Options.Add(option);
        command.SetAction(result =>
        {
            var output = result.InvocationConfiguration.Output;
            int n = result.GetValue(count), cols = result.GetValue(columns);
            if (n <= 0) throw new CliException($"--count must be positive, got {n}.");
            if (cols <= 0) throw new CliException($"--columns must be positive, got {cols}.");
            if (result.GetValue(scale) is int s && (s <= 0 || s > 32)) throw new CliException($"--scale must be in 1..32, got {s}.");
            var dataset = common.Load(result, result.GetValue(split)!);
            if (dataset.Count == 0) throw new CliException($"{dataset.FullName} has no images.");
            var order = new Generator(result.GetValue(common.Seed)).Permutation(dataset.Count);
            var indices = order.Take(Math.Min(n, dataset.Count)).ToArray();
            var canvas = PreviewGrid.Render(dataset, indices, cols, result.GetValue(scale));
            string path = result.GetValue(outPath)!;
            try
            {
                canvas.SavePng(path);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new CliException($"cannot write {path}: {e.Message}");
            }
            output.WriteLine($"wrote {path}: {indices.Length} samples of {dataset.FullName} ({canvas.Width}×{canvas.Height} px)");
            return 0;
        });
        return command;
    }

    private static Dataset Guard(Func<Dataset> load)
    {
        try
        {
            return load();
        }
        catch (DataFormatException e)
        {
            throw new CliException(e.Message);
        }
        catch (ArgumentException e)
        {
            throw new CliException(e.Message);
        }
    }

    private static string DescribeClassCounts(Dataset dataset)
    {
        if (dataset.Count == 0) return "no images";
        var counts = new int[dataset.Classes.Count];
        for (int i = 0; i < dataset.Count; i++) counts[dataset.Label(i)]++;
        int min = counts.Min(), max = counts.Max();
        return min == max ? $"{min} per class" : $"{min}–{max} per class";
    }

    private static string FormatValues(IEnumerable<double> values) => string.Join(" ", values.Select(v => v.ToString("F4", CultureInfo.InvariantCulture)));
}
