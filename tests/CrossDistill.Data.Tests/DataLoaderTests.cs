using CrossDistill.Data.Loading;
using CrossDistill.Data.Shapes;
using CrossDistill.Data.Transforms;

namespace CrossDistill.Data.Tests;

public class DataLoaderTests
{
    private static readonly ShapesDataset Shapes = ShapesDataset.Create(ShapesSplit.Test, new ShapesOptions { TrainCount = 0, TestCount = 53, Seed = 2 });

    private static DataLoaderOptions Augmented(int threads, int depth = 3) => new()
    {
        BatchSize = 8,
        Seed = 17,
        PrefetchThreads = threads,
        PrefetchDepth = depth,
        Transform = new Compose(RandomCrop.Square(32, padding: 4), new RandomHorizontalFlip(), new Normalize(new[] { 0.5f, 0.5f, 0.5f }, new[] { 0.25f, 0.25f, 0.25f })),
        BatchTransforms = new IBatchTransform[] { new MixupOrCutMix(), new LabelSmoothing(0.1) },
    };

    private sealed record Snapshot(int Epoch, int Number, int[] Indices, float[] Images, long[] Labels, float[]? Soft, long[]? Secondary);

    private static List<Snapshot> Run(DataLoader loader, int epochs)
    {
        var result = new List<Snapshot>();
        for (int e = 0; e < epochs; e++)
            foreach (var batch in loader)
                using (batch)
                    result.Add(Capture(batch));
        return result;
    }

    private static Snapshot Capture(Batch b) =>
        new(b.Epoch, b.Number, b.Indices, b.Images.ToArray(), b.Labels.ToLongArray(), b.SoftTargets?.ToArray(), b.SecondaryLabels?.ToLongArray());

    private static void AssertSame(IReadOnlyList<Snapshot> expected, IReadOnlyList<Snapshot> actual)
    {
        Assert.Equal(expected.Count, actual.Count);
        for (int i = 0; i < expected.Count; i++)
        {
            Assert.Equal((expected[i].Epoch, expected[i].Number), (actual[i].Epoch, actual[i].Number));
            Assert.Equal(expected[i].Indices, actual[i].Indices);
            Assert.Equal(expected[i].Labels, actual[i].Labels);
            Assert.True(expected[i].Images.AsSpan().SequenceEqual(actual[i].Images), $"batch {i}: images differ");
            Assert.Equal(expected[i].Soft, actual[i].Soft);
            Assert.Equal(expected[i].Secondary, actual[i].Secondary);
        }
    }

    [Fact]
    public void Batches_HaveTheRightShapesLabelsAndIndices()
    {
        var loader = new DataLoader(Shapes, new DataLoaderOptions { BatchSize = 10, Seed = 1, PrefetchThreads = 2 });
        Assert.Equal(6, loader.BatchesPerEpoch);
        var seen = new List<int>();
        foreach (var batch in loader)
        {
            using (batch)
            {
                int n = batch.Count;
                Assert.Equal(batch.Number < 5 ? 10 : 3, n);
                Assert.Equal(new[] { n, 3, 32, 32 }, batch.Images.Shape);
                Assert.Equal(DType.Int64, batch.Labels.DType);
                Assert.Null(batch.SoftTargets);
                Assert.NotNull(batch.SecondaryLabels);
                var labels = batch.Labels.ToLongArray();
                var images = batch.Images.ToArray();
                for (int k = 0; k < n; k++)
                {
                    int index = batch.Indices[k];
                    Assert.Equal(Shapes.Label(index), labels[k]);
                    Assert.Equal(Shapes.SecondaryLabel(index), batch.SecondaryLabels!.ToLongArray()[k]);
                    var expected = new float[3072];
                    Shapes.ReadImage(index, expected);
                    Assert.True(images.AsSpan(k * 3072, 3072).SequenceEqual(expected), $"sample {index}");
                }
                seen.AddRange(batch.Indices);
            }
        }
        Assert.Equal(Enumerable.Range(0, 53), seen.OrderBy(i => i));
        Assert.NotEqual(Enumerable.Range(0, 53), seen);
        Assert.Equal((1, 0), (loader.Epoch, loader.Position));
    }

    [Fact]
    public void DropLast_AndNoShuffle()
    {
        var loader = new DataLoader(Shapes, new DataLoaderOptions { BatchSize = 10, DropLast = true, Shuffle = false, PrefetchThreads = 1 });
        var batches = Run(loader, 2);
        Assert.Equal(10, batches.Count);
        Assert.All(batches, b => Assert.Equal(10, b.Indices.Length));
        Assert.Equal(Enumerable.Range(0, 50), batches.Take(5).SelectMany(b => b.Indices));
        Assert.Equal(batches[0].Indices, batches[5].Indices);
        Assert.Equal(0, new DataLoader(Shapes, new DataLoaderOptions { BatchSize = 60, DropLast = true }).BatchesPerEpoch);
    }

    [Fact]
    public void PrefetchingThreads_GiveTheSameBatchesAsMakingThemInline()
    {
        var inline = Run(new DataLoader(Shapes, Augmented(threads: 0)), 2);
        var prefetched = Run(new DataLoader(Shapes, Augmented(threads: 3, depth: 5)), 2);
        AssertSame(inline, prefetched);
        Assert.NotNull(inline[0].Soft);
        Assert.Equal(14, inline.Count);
        // Each epoch has its own order and augmentations.
        Assert.NotEqual(inline[0].Indices, inline[7].Indices);
    }

    /// <summary>Sleeps a time that depends on the thread and the clock, to shuffle which batch finishes first.</summary>
    private sealed class Jitter : ITransform
    {
        public Image Apply(Image image, Generator rng)
        {
            int ms = (Environment.CurrentManagedThreadId * 7 + Environment.TickCount) % 3;
            if (ms > 0) Thread.Sleep(ms);
            return image;
        }
    }

    [Fact]
    public void BatchesDoNotDependOnThreadTiming()
    {
        var options = Augmented(threads: 0) with { Transform = new Compose(new Jitter(), Augmented(0).Transform!) };
        var reference = Run(new DataLoader(Shapes, options), 1);
        for (int threads = 1; threads <= 4; threads += 3)
            AssertSame(reference, Run(new DataLoader(Shapes, options with { PrefetchThreads = threads, PrefetchDepth = threads + 1 }), 1));
    }

    [Fact]
    public void OtherSeeds_GiveOtherBatches()
    {
        var a = Run(new DataLoader(Shapes, Augmented(1)), 1);
        var b = Run(new DataLoader(Shapes, Augmented(1) with { Seed = 18 }), 1);
        Assert.NotEqual(a[0].Indices, b[0].Indices);
    }

    [Fact]
    public void RestoredState_ContinuesTheExactStream()
    {
        var full = Run(new DataLoader(Shapes, Augmented(2)), 3);

        var first = new DataLoader(Shapes, Augmented(2));
        var before = new List<Snapshot>();
        foreach (var batch in first)
        {
            using (batch) before.Add(Capture(batch));
            if (before.Count == 3) break;
        }
        var saved = DataLoaderState.FromArray(first.State.ToArray());
        Assert.Equal((0, 3), (saved.Epoch, saved.Position));

        var resumed = new DataLoader(Shapes, Augmented(1)) { State = saved };
        // The first enumeration finishes epoch 0, the next two run epochs 1 and 2.
        var after = Run(resumed, 3);
        AssertSame(full, before.Concat(after).ToList());

        // Breaking after an epoch's last batch still moves on to the next epoch.
        var edge = new DataLoader(Shapes, Augmented(0)) { State = saved with { Position = 7 } };
        using (var b = edge.First()) Assert.Equal((1, 0), (b.Epoch, b.Number));
    }

    [Fact]
    public void MismatchedState_IsRefused()
    {
        var loader = new DataLoader(Shapes, Augmented(0));
        var e = Assert.Throws<ArgumentException>(() => loader.State = new DataLoaderState(0, 1, 99, 53, 8));
        Assert.Contains("seed 99", e.Message);
        Assert.Throws<ArgumentException>(() => loader.State = new DataLoaderState(0, 8, 17, 53, 8));
        Assert.Throws<ArgumentException>(() => loader.State = new DataLoaderState(0, 1, 17, 53, 16));
    }

    [Fact]
    public void Prefetching_StaysWithinItsDepth()
    {
        var loader = new DataLoader(Shapes, Augmented(threads: 4, depth: 2) with { BatchSize = 4 });
        foreach (var batch in loader)
        {
            // A slow consumer lets the threads run as far ahead as they may.
            Thread.Sleep(2);
            batch.Dispose();
        }
        Assert.InRange(loader.PeakBatchesAhead, 1, 2);
    }

    [Fact]
    public void BatchTensors_BelongToNoScope_AndOutliveTheConsumersScope()
    {
        var loader = new DataLoader(Shapes, new DataLoaderOptions { BatchSize = 5, PrefetchThreads = 0 });
        Batch batch;
        using (DisposeScope.Enter()) batch = loader.First();
        using (batch)
        {
            Assert.False(batch.Images.IsDisposed);
            Assert.Equal(5, batch.Labels.ToLongArray().Length);
        }
        Assert.True(batch.Images.IsDisposed);
    }

    private sealed class FailOn : ITransform
    {
        public Image Apply(Image image, Generator rng) => throw new InvalidOperationException("transform failed on purpose");
    }

    [Fact]
    public void ErrorsInPrefetchThreads_ReachTheConsumer()
    {
        var loader = new DataLoader(Shapes, new DataLoaderOptions { BatchSize = 5, PrefetchThreads = 2, Transform = new FailOn() });
        var e = Assert.Throws<InvalidOperationException>(() => loader.First());
        Assert.Equal("transform failed on purpose", e.Message);
    }

    private sealed class Resizes : ITransform
    {
        public Image Apply(Image image, Generator rng) => new Resize(rng.NextDouble() < 0.5 ? 16 : 20).Apply(image, rng);
    }

    [Fact]
    public void SamplesOfDifferentSizes_AreRefused()
    {
        var loader = new DataLoader(Shapes, new DataLoaderOptions { BatchSize = 20, PrefetchThreads = 0, Transform = new Resizes() });
        var e = Assert.Throws<InvalidOperationException>(() => loader.First());
        Assert.Contains("one size", e.Message);
        Assert.Throws<ArgumentException>(() => new DataLoader(Shapes, new DataLoaderOptions { BatchSize = 0 }));
    }
}
