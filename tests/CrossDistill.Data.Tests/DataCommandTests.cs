using System.CommandLine;
using CrossDistill.Cli;
using CrossDistill.Cli.Commands;
using CrossDistill.Data.Tests.Support;

namespace CrossDistill.Data.Tests;

public class DataCommandTests
{
    private static (int Code, string Output) Run(params string[] args)
    {
        var root = new RootCommand("test");
        root.Subcommands.Add(DataCommand.Create());
        var output = new StringWriter();
        int code = root.Parse(args).Invoke(new InvocationConfiguration { Output = output, Error = output, EnableDefaultExceptionHandler = false });
        return (code, output.ToString());
    }

    [Fact]
    public void Info_PrintsSizesClassesAndStatistics()
    {
        var (code, output) = Run("data", "info", "--dataset", "shapes", "--train-count", "40", "--test-count", "20");
        Assert.True(code == 0, output);
        Assert.Contains("dataset: shapes", output);
        Assert.Contains("images: 3×32×32", output);
        Assert.Contains("train: 40 images, 4 per class", output);
        Assert.Contains("test: 20 images, 2 per class", output);
        Assert.Contains("cue-conflict", output);
        Assert.Contains("classes (10): circle/stripes", output);
        Assert.Contains("secondary label 'texture'", output);
        var mean = output.Split('\n').Single(l => l.StartsWith("train mean:", StringComparison.Ordinal));
        Assert.Equal(3, mean["train mean:".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries).Length);
    }

    [Fact]
    public void Info_ReadsIdxFilesFromARoot()
    {
        using var temp = new TempFolder();
        var images = FormatWriters.RandomImages(new Random(1), 4, 16);
        FormatWriters.WriteMnistPair(temp.Path, "train", images, new byte[] { 0, 1, 2, 3 }, 4, 4, gzip: true);
        FormatWriters.WriteMnistPair(temp.Path, "t10k", images[..2], new byte[] { 5, 5 }, 4, 4, gzip: false);
        var (code, output) = Run("data", "info", "--dataset", "mnist", "--root", temp.Path);
        Assert.True(code == 0, output);
        Assert.Contains("images: 1×4×4", output);
        Assert.Contains("train: 4 images, 0–1 per class", output);
        Assert.Contains("normalisation used: mean 0.1307", output);
    }

    [Fact]
    public void Preview_WritesAPngGrid()
    {
        using var temp = new TempFolder();
        string path = temp.File("grid.png");
        var (code, output) = Run("data", "preview", "--dataset", "shapes", "--split", "cue-conflict", "--test-count", "30", "--out", path, "--count", "10", "--columns", "5");
        Assert.True(code == 0, output);
        Assert.Contains("10 samples of shapes/cue-conflict", output);
        var png = PngTestDecoder.Decode(File.ReadAllBytes(path));
        Assert.Equal(3, png.Channels);
        Assert.True(png.Width > 5 * 64 && png.Height > 2 * 64, $"{png.Width}×{png.Height}");
        // Labels are drawn in dark ink on the white margin.
        Assert.Contains(Enumerable.Range(0, png.Pixels.Length / 3), p => png.Pixels[3 * p] < 40 && png.Pixels[3 * p + 1] < 40);
    }

    [Fact]
    public void MissingFiles_AndBadNames_GiveCliErrorsNamingTheProblem()
    {
        using var temp = new TempFolder();
        var e = Assert.Throws<CliException>(() => Run("data", "info", "--dataset", "cifar10", "--root", temp.Path));
        Assert.Contains(Path.Combine(temp.Path, "data_batch_1.bin"), e.Message);
        Assert.Contains("CIFAR-10 binary batch", e.Message);
        Assert.Contains("Unknown dataset 'imagenet'", Assert.Throws<CliException>(() => Run("data", "info", "--dataset", "imagenet")).Message);
        Assert.Contains("unknown split", Assert.Throws<CliException>(() => Run("data", "preview", "--dataset", "shapes", "--split", "val", "--out", temp.File("x.png"))).Message);
        Assert.Contains("--count", Assert.Throws<CliException>(() => Run("data", "preview", "--dataset", "shapes", "--count", "0", "--out", temp.File("x.png"))).Message);
        Assert.NotEqual(0, Run("data", "preview", "--dataset", "shapes").Code);
    }
}

public class FashionMnistSmokeTests
{
    [FashionMnistFact]
    public void DebianFashionMnistFiles_LoadWithTheirPublishedSizesAndStatistics()
    {
        var train = Catalog.DataCatalog.Load("fashion-mnist", "train");
        var test = Catalog.DataCatalog.Load("fashion-mnist", "test");
        Assert.Equal((60000, 1, 28, 28), (train.Count, train.Channels, train.Height, train.Width));
        Assert.Equal(10000, test.Count);
        var counts = new int[10];
        for (int i = 0; i < test.Count; i++) counts[test.Label(i)]++;
        Assert.All(counts, c => Assert.Equal(1000, c));
        var stats = Catalog.ChannelStatistics.Compute(train);
        Assert.Equal(0.2860, stats.Mean[0], 3);
        Assert.Equal(0.3530, stats.Std[0], 3);
        // The first training image of Fashion-MNIST is an ankle boot.
        Assert.Equal(9, train.Label(0));
    }
}
