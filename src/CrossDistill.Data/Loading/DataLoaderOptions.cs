using CrossDistill.Data.Transforms;

namespace CrossDistill.Data.Loading;

/// <summary>How a <see cref="DataLoader"/> batches, shuffles, augments and prefetches.</summary>
public sealed record DataLoaderOptions
{
    public int BatchSize { get; init; } = 128;

    /// <summary>A new order every epoch (seeded); off: dataset order.</summary>
    public bool Shuffle { get; init; } = true;

    /// <summary>Leave out the last batch when it would be smaller than <see cref="BatchSize"/>.</summary>
    public bool DropLast { get; init; }

    /// <summary>Fixes the order, the augmentations and the mixing of every epoch.</summary>
    public ulong Seed { get; init; }

    /// <summary>Applied to each sample (crop, flip, normalise, …); all samples must come out the same size.</summary>
    public ITransform? Transform { get; init; }

    /// <summary>Applied to each assembled batch, in order (mixup, CutMix, label smoothing).</summary>
    public IReadOnlyList<IBatchTransform> BatchTransforms { get; init; } = Array.Empty<IBatchTransform>();

    /// <summary>Background threads that prepare batches; 0 prepares each batch on the consumer's thread when it is asked for.</summary>
    public int PrefetchThreads { get; init; } = 2;

    /// <summary>How many batches may be prepared ahead of the one the consumer is waiting for; bounds the loader's memory.</summary>
    public int PrefetchDepth { get; init; } = 4;

    public void Validate()
    {
        if (BatchSize <= 0) throw new ArgumentException($"DataLoader: batch size must be positive, got {BatchSize}.");
        if (PrefetchThreads < 0) throw new ArgumentException($"DataLoader: prefetch threads cannot be negative, got {PrefetchThreads}.");
        if (PrefetchDepth < 1) throw new ArgumentException($"DataLoader: prefetch depth must be at least 1, got {PrefetchDepth}.");
    }
}

/// <summary>
/// Where a loader is in its stream of batches, for checkpoints: <see cref="Position"/> batches of
/// epoch <see cref="Epoch"/> have been handed out. The seed and sizes are kept to refuse restoring
/// into a loader that would produce a different stream.
/// </summary>
public sealed record DataLoaderState(int Epoch, int Position, ulong Seed, int DatasetCount, int BatchSize)
{
    /// <summary>The state as five integers (for a checkpoint tensor).</summary>
    public long[] ToArray() => new[] { Epoch, Position, unchecked((long)Seed), DatasetCount, BatchSize };

    public static DataLoaderState FromArray(IReadOnlyList<long> values)
    {
        if (values.Count != 5) throw new ArgumentException($"A data loader state has 5 values, got {values.Count}.");
        return new DataLoaderState(checked((int)values[0]), checked((int)values[1]), unchecked((ulong)values[2]), checked((int)values[3]), checked((int)values[4]));
    }
}
