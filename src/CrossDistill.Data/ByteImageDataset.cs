namespace CrossDistill.Data;

/// <summary>
/// A dataset held in memory as one byte per value (0…255 for [0, 1]), planar C×H×W per image,
/// images back to back: the layout of the CIFAR binaries, and a quarter of the memory of floats.
/// </summary>
public sealed class ByteImageDataset : Dataset
{
    private readonly byte[] _pixels;
    private readonly int[] _labels;
    private readonly int[]? _secondaryLabels;
    private readonly string? _secondaryName;
    private readonly IReadOnlyList<string>? _secondaryClasses;

    public ByteImageDataset(string name, string split, int channels, int height, int width, byte[] pixels, int[] labels, IReadOnlyList<string> classes,
        string? secondaryLabelName = null, int[]? secondaryLabels = null, IReadOnlyList<string>? secondaryClasses = null)
    {
        if (channels <= 0 || height <= 0 || width <= 0)
            throw new ArgumentException($"{name}/{split}: image size must be positive, got {channels}×{height}×{width}.");
        long expected = (long)labels.Length * channels * height * width;
        if (pixels.Length != expected)
            throw new ArgumentException($"{name}/{split}: {pixels.Length} pixel bytes for {labels.Length} images of {channels}×{height}×{width} (expected {expected}).");
        if ((secondaryLabels is null) != (secondaryLabelName is null))
            throw new ArgumentException($"{name}/{split}: a secondary label needs both a name and the labels.");
        if (secondaryLabels is not null && secondaryLabels.Length != labels.Length)
            throw new ArgumentException($"{name}/{split}: {secondaryLabels.Length} secondary labels for {labels.Length} images.");
        Name = name;
        Split = split;
        Channels = channels;
        Height = height;
        Width = width;
        _pixels = pixels;
        _labels = labels;
        Classes = classes;
        _secondaryName = secondaryLabelName;
        _secondaryLabels = secondaryLabels;
        _secondaryClasses = secondaryClasses;
        for (int i = 0; i < labels.Length; i++)
            if ((uint)labels[i] >= (uint)classes.Count)
                throw new ArgumentException($"{name}/{split}: label {labels[i]} of image {i} is outside the {classes.Count} classes.");
    }

    public override string Name { get; }
    public override string Split { get; }
    public override int Count => _labels.Length;
    public override int Channels { get; }
    public override int Height { get; }
    public override int Width { get; }
    public override IReadOnlyList<string> Classes { get; }
    public override string? SecondaryLabelName => _secondaryName;
    public override IReadOnlyList<string>? SecondaryClasses => _secondaryClasses;

    public override int Label(int index)
    {
        CheckIndex(index);
        return _labels[index];
    }

    public override int SecondaryLabel(int index)
    {
        CheckIndex(index);
        return _secondaryLabels is null ? -1 : _secondaryLabels[index];
    }

    /// <summary>The stored bytes of one image (C×H×W).</summary>
    public ReadOnlySpan<byte> RawImage(int index)
    {
        CheckIndex(index);
        return _pixels.AsSpan(index * ImageLength, ImageLength);
    }

    public override void ReadImage(int index, Span<float> destination)
    {
        CheckDestination(destination);
        PixelConvert.BytesToUnit(RawImage(index), destination);
    }
}
