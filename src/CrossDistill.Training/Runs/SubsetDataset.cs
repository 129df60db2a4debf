using CrossDistill.Data;

namespace CrossDistill.Training.Runs;

/// <summary>The first <see cref="Count"/> images of another dataset (dataset.train_subset / test_subset).</summary>
public sealed class SubsetDataset : Dataset
{
    private readonly Dataset _source;

    public SubsetDataset(Dataset source, int count)
    {
        if (count < 0 || count > source.Count) throw new ArgumentOutOfRangeException(nameof(count), $"A subset of {count} images of {source.FullName} ({source.Count} images).");
        _source = source;
        Count = count;
    }

    public override string Name => _source.Name;
    public override string Split => _source.Split;
    public override int Count { get; }
    public override int Channels => _source.Channels;
    public override int Height => _source.Height;
    public override int Width => _source.Width;
    public override IReadOnlyList<string> Classes => _source.Classes;
    public override string? SecondaryLabelName => _source.SecondaryLabelName;
    public override IReadOnlyList<string>? SecondaryClasses => _source.SecondaryClasses;

    public override int Label(int index)
    {
        CheckIndex(index);
        return _source.Label(index);
    }

    public override int SecondaryLabel(int index)
    {
        CheckIndex(index);
        return _source.SecondaryLabel(index);
    }

    public override void ReadImage(int index, Span<float> destination)
    {
        CheckIndex(index);
        _source.ReadImage(index, destination);
    }
}
