using CrossDistill.Data.Catalog;
using CrossDistill.Data.Shapes;
using CrossDistill.Data.Variants;

namespace CrossDistill.Data.Tests;

public class VariantTests
{
    private static readonly ShapesOptions Small = new() { TrainCount = 0, TestCount = 30, Seed = 3 };

    private static float[] Read(Dataset d, int i)
    {
        var buffer = new float[d.ImageLength];
        d.ReadImage(i, buffer);
        return buffer;
    }

    [Theory]
    [InlineData(2, 2)]
    [InlineData(4, 4)]
    [InlineData(8, 8)]
    [InlineData(2, 4)]
    public void PatchShuffle_MovesWholeCellsByItsPermutation(int rows, int columns)
    {
        var test = ShapesDataset.Create(ShapesSplit.Test, Small);
        var shuffled = new PatchShuffledDataset(test, rows, columns, seed: 5);
        int cellH = 32 / rows, cellW = 32 / columns;
        int identity = 0;
        for (int i = 0; i < test.Count; i++)
        {
            var source = Read(test, i);
            var result = Read(shuffled, i);
            var permutation = shuffled.Permutation(i);
            Assert.Equal(Enumerable.Range(0, rows * columns), permutation.OrderBy(p => p));
            if (permutation.SequenceEqual(Enumerable.Range(0, rows * columns))) identity++;
            for (int cell = 0; cell < permutation.Length; cell++)
            {
                int from = permutation[cell];
                for (int c = 0; c < 3; c++)
                    for (int y = 0; y < cellH; y++)
                        for (int x = 0; x < cellW; x++)
                        {
                            float expected = source[(c * 32 + from / columns * cellH + y) * 32 + from % columns * cellW + x];
                            float actual = result[(c * 32 + cell / columns * cellH + y) * 32 + cell % columns * cellW + x];
                            Assert.Equal(expected, actual);
                        }
            }
            Assert.Equal(test.Label(i), shuffled.Label(i));
            Assert.Equal(test.SecondaryLabel(i), shuffled.SecondaryLabel(i));
        }
        Assert.True(identity <= (rows * columns == 4 ? 5 : 0), $"{identity} of {test.Count} permutations left the image as it was");
        Assert.Equal(Read(shuffled, 3), Read(new PatchShuffledDataset(test, rows, columns, seed: 5), 3));
    }

    [Fact]
    public void PatchShuffle_GridThatDoesNotDivide_NamesTheSizes()
    {
        var test = ShapesDataset.Create(ShapesSplit.Test, Small);
        var e = Assert.Throws<ArgumentException>(() => new PatchShuffledDataset(test, 5));
        Assert.Contains("5×5", e.Message);
        Assert.Contains("32×32", e.Message);
        Assert.Throws<ArgumentException>(() => DataCatalog.Load("shapes", "patch-shuffle-x", shapes: Small));
        Assert.Equal("patch-shuffle-2x4", DataCatalog.Load("shapes", "patch-shuffle-2x4", shapes: Small).Split);
    }

    [Fact]
    public void GaussianNoise_HasTheSeverityStd_IsClipped_AndFixed()
    {
        var test = ShapesDataset.Create(ShapesSplit.Test, Small);
        for (int severity = 1; severity <= 5; severity++)
        {
            var noisy = (GaussianNoiseDataset)DataCatalog.Load("shapes", $"noise-{severity}", shapes: Small);
            Assert.Equal($"noise-{severity}", noisy.Split);
            Assert.Equal(GaussianNoise.Cifar10CSigmas[severity - 1], noisy.Sigma);
            double sum = 0, sumSq = 0;
            long n = 0;
            for (int i = 0; i < test.Count; i++)
            {
                var clean = Read(test, i);
                var dirty = Read(noisy, i);
                Assert.Equal(dirty, Read(noisy, i));
                for (int k = 0; k < clean.Length; k++)
                {
                    Assert.InRange(dirty[k], 0f, 1f);
                    // Away from the clipping bounds the difference is the raw noise.
                    if (clean[k] < 0.3f || clean[k] > 0.7f) continue;
                    double d = dirty[k] - clean[k];
                    sum += d;
                    sumSq += d * d;
                    n++;
                }
            }
            double mean = sum / n, std = Math.Sqrt(sumSq / n - mean * mean);
            Assert.InRange(mean, -0.01, 0.01);
            Assert.InRange(std, noisy.Sigma * 0.95, noisy.Sigma * 1.05);
        }
        Assert.Throws<ArgumentException>(() => DataCatalog.Load("shapes", "noise-6", shapes: Small));
        Assert.Throws<ArgumentOutOfRangeException>(() => GaussianNoise.SigmaForSeverity(0));
    }

    [Fact]
    public void Noise_ClipsAtTheBounds()
    {
        var pixels = new float[2000];
        for (int i = 0; i < 1000; i++) pixels[i] = 1f;
        GaussianNoise.Apply(pixels, 0.1, new CrossDistill.Engine.Generator(1));
        Assert.All(pixels, v => Assert.InRange(v, 0f, 1f));
        Assert.Contains(pixels[..1000], v => v == 1f);
        Assert.Contains(pixels[1000..], v => v == 0f);
        Assert.Contains(pixels[..1000], v => v < 1f);
    }

    [Fact]
    public void ChannelStatistics_MatchADirectComputation()
    {
        var test = ShapesDataset.Create(ShapesSplit.Test, Small);
        var stats = ChannelStatistics.Compute(test);
        for (int c = 0; c < 3; c++)
        {
            var values = Enumerable.Range(0, test.Count).SelectMany(i => Read(test, i).Skip(c * 1024).Take(1024)).Select(v => (double)v).ToArray();
            double mean = values.Average();
            double std = Math.Sqrt(values.Select(v => (v - mean) * (v - mean)).Average());
            Assert.Equal(mean, stats.Mean[c], 9);
            Assert.Equal(std, stats.Std[c], 6);
        }
        Assert.Null(DataCatalog.KnownNormalization("shapes"));
        Assert.Equal(0.2860, DataCatalog.KnownNormalization("Fashion_MNIST")!.Mean[0]);
        Assert.Equal(stats.Mean, DataCatalog.NormalizationFor(test).Mean);
    }

    [Fact]
    public void Catalog_NamesAndSplits()
    {
        Assert.Equal("cifar10", DataCatalog.Canonical("CIFAR-10"));
        Assert.Equal("fashion-mnist", DataCatalog.Canonical("fashion_mnist"));
        Assert.Contains("known: shapes", Assert.Throws<ArgumentException>(() => DataCatalog.Canonical("imagenet")).Message);
        Assert.Null(DataCatalog.DefaultRoot("shapes"));
        Assert.EndsWith(Path.Combine("cifar100"), DataCatalog.DefaultRoot("cifar100"));
        Assert.DoesNotContain("patch-shuffle-8", DataCatalog.Splits("mnist", 28));
        Assert.Contains("patch-shuffle-4", DataCatalog.Splits("mnist", 28));
        Assert.Contains("cue-conflict", DataCatalog.Splits("shapes", 32));
        Assert.DoesNotContain("cue-conflict", DataCatalog.Splits("cifar10", 32));
    }
}
