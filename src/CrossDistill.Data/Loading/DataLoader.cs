using System.Collections;
using CrossDistill.Data.Transforms;
using CrossDistill.Engine;

namespace CrossDistill.Data.Loading;

/// <summary>
/// Turns a dataset into batches: a seeded order per epoch, per-sample transforms, batch
/// transforms, and background threads that prepare the next batches while the consumer computes.
/// <para>Every batch is a pure function of (seed, epoch, batch number): the order comes from a
/// generator seeded by (seed, epoch), each sample's augmentations from one seeded by (seed, epoch,
/// sample index), each batch's mixing from one seeded by (seed, epoch, batch number). So the
/// batches are identical with any number of prefetch threads and any timing, and a restored
/// <see cref="State"/> continues the exact stream.</para>
/// <para>Enumerating the loader yields the rest of the current epoch and then moves to the next
/// epoch. The dataset is shared, not copied; at most <see cref="DataLoaderOptions.PrefetchDepth"/>
/// batches exist ahead of the consumer.</para>
/// </summary>
public sealed class DataLoader : IEnumerable<Batch>
{
    private static readonly long OrderTag = SeedHash.Tag("loader/order");
    private static readonly long SampleTag = SeedHash.Tag("loader/sample");
    private static readonly long BatchTag = SeedHash.Tag("loader/batch");

    private int _enumerating;
    private int _peakAhead;

    public DataLoader(Dataset dataset, DataLoaderOptions? options = null)
    {
        Options = options ?? new DataLoaderOptions();
        Options.Validate();
        Dataset = dataset;
    }

    public Dataset Dataset { get; }
    public DataLoaderOptions Options { get; }

    /// <summary>The epoch being handed out (from 0).</summary>
    public int Epoch { get; private set; }

    /// <summary>How many batches of <see cref="Epoch"/> have been handed out.</summary>
    public int Position { get; private set; }

    public int BatchesPerEpoch
    {
        get
        {
            int n = Dataset.Count, b = Options.BatchSize;
            return Options.DropLast ? n / b : (n + b - 1) / b;
        }
    }

    /// <summary>The most batches that were ever prepared ahead of the consumer (for tests of the memory bound).</summary>
    internal int PeakBatchesAhead => Volatile.Read(ref _peakAhead);

    public DataLoaderState State
    {
        get => new(Epoch, Position, Options.Seed, Dataset.Count, Options.BatchSize);
        set
        {
            if (Volatile.Read(ref _enumerating) != 0) throw new InvalidOperationException("DataLoader: cannot restore a state while an epoch is being enumerated.");
            if (value.Seed != Options.Seed || value.DatasetCount != Dataset.Count || value.BatchSize != Options.BatchSize)
                throw new ArgumentException($"DataLoader: the state was saved for seed {value.Seed}, {value.DatasetCount} samples, batch size {value.BatchSize}; this loader has seed {Options.Seed}, {Dataset.Count} samples ({Dataset.FullName}), batch size {Options.BatchSize}.");
            if (value.Epoch < 0 || value.Position < 0 || value.Position > BatchesPerEpoch)
                throw new ArgumentException($"DataLoader: state epoch {value.Epoch}, position {value.Position} is out of range ({BatchesPerEpoch} batches per epoch).");
            Epoch = value.Epoch;
            Position = value.Position;
        }
    }

    /// <summary>The order in which epoch <paramref name="epoch"/> visits the dataset.</summary>
    public int[] EpochOrder(int epoch)
    {
        if (!Options.Shuffle) return Enumerable.Range(0, Dataset.Count).ToArray();
        return SeedHash.Generator(Options.Seed, OrderTag, epoch).Permutation(Dataset.Count);
    }

    public IEnumerator<Batch> GetEnumerator()
    {
        if (Interlocked.Exchange(ref _enumerating, 1) != 0)
            throw new InvalidOperationException($"DataLoader over {Dataset.FullName} is already being enumerated.");
        try
        {
            int batches = BatchesPerEpoch;
            if (Position >= batches && Position > 0)
            {
                Epoch++;
                Position = 0;
            }
            int epoch = Epoch;
            var order = EpochOrder(epoch);
            using var prefetcher = Options.PrefetchThreads > 0 && Position < batches
                ? new Prefetcher(this, epoch, order, Position, batches)
                : null;
            for (int b = Position; b < batches; b++)
            {
                var batch = prefetcher is not null ? prefetcher.Take(b) : MakeBatch(epoch, order, b);
                Position = b + 1;
                yield return batch;
            }
            Epoch = epoch + 1;
            Position = 0;
        }
        finally
        {
            Volatile.Write(ref _enumerating, 0);
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>Batch <paramref name="number"/> of epoch <paramref name="epoch"/>, made on the calling thread (what the prefetch threads run).</summary>
    public Batch MakeBatch(int epoch, int number) => MakeBatch(epoch, EpochOrder(epoch), number);

    internal Batch MakeBatch(int epoch, int[] order, int number)
    {
        int start = number * Options.BatchSize;
        if (number < 0 || start >= Dataset.Count) throw new ArgumentOutOfRangeException(nameof(number), $"Batch {number} is past the end of {Dataset.FullName} ({BatchesPerEpoch} batches per epoch).");
        int count = Math.Min(Options.BatchSize, Dataset.Count - start);
        var indices = order.AsSpan(start, count).ToArray();
        var labels = new int[count];
        Tensor? images = null;
        try
        {
            int length = 0;
            for (int k = 0; k < count; k++)
            {
                int index = indices[k];
                var image = Dataset.ReadImage(index);
                if (Options.Transform is { } transform) image = transform.Apply(image, SeedHash.Generator(Options.Seed, SampleTag, epoch, index));
                using (image)
                {
                    if (images is null)
                    {
                        images = Torch.Empty(count, image.Channels, image.Height, image.Width).DetachFromScopes();
                        length = image.Length;
                    }
                    else if (image.Channels != images.Shape[1] || image.Height != images.Shape[2] || image.Width != images.Shape[3])
                    {
                        throw new InvalidOperationException($"DataLoader: sample {index} of {Dataset.FullName} came out of the transforms as {image.ShapeText}, the batch's first sample as {images.Shape[1]}×{images.Shape[2]}×{images.Shape[3]}; the transforms must produce one size.");
                    }
                    image.Pixels.CopyTo(images.Span.Slice(k * length, length));
                }
                labels[k] = Dataset.Label(index);
            }
            var buffer = new BatchBuffer(images!, labels, Dataset.Classes.Count);
            if (Options.BatchTransforms.Count > 0)
            {
                var rng = SeedHash.Generator(Options.Seed, BatchTag, epoch, number);
                foreach (var t in Options.BatchTransforms) t.Apply(buffer, rng);
            }
            var labelTensor = Torch.FromArray(labels.Select(l => (long)l).ToArray(), count).DetachFromScopes();
            var soft = buffer.SoftTargets is { } targets ? Torch.FromArray(targets, count, Dataset.Classes.Count).DetachFromScopes() : null;
            Tensor? secondary = null;
            if (Dataset.SecondaryLabelName is not null)
            {
                var values = new long[count];
                for (int k = 0; k < count; k++) values[k] = Dataset.SecondaryLabel(indices[k]);
                secondary = Torch.FromArray(values, count).DetachFromScopes();
            }
            return new Batch(images!, labelTensor, soft, secondary, indices, epoch, number);
        }
        catch
        {
            images?.Dispose();
            throw;
        }
    }

    internal void RecordAhead(int ahead)
    {
        int peak;
        while (ahead > (peak = Volatile.Read(ref _peakAhead)) && Interlocked.CompareExchange(ref _peakAhead, ahead, peak) != peak) { }
    }
}
