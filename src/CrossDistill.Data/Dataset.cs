namespace CrossDistill.Data;

/// <summary>
/// A fixed, indexable set of labelled images. Every image of a dataset has the same
/// <see cref="Channels"/>×<see cref="Height"/>×<see cref="Width"/> and reads as float32 values in
/// [0, 1], planar C×H×W. Reads must be safe from several threads at once (the loader's prefetch
/// threads share one dataset), so implementations keep their data immutable after construction.
/// </summary>
public abstract class Dataset
{
    /// <summary>The dataset's catalog name ("shapes", "cifar10", …).</summary>
    public abstract string Name { get; }

    /// <summary>Which part of the dataset this is ("train", "test", "cue-conflict", "noise-3", …).</summary>
    public abstract string Split { get; }

    public abstract int Count { get; }
    public abstract int Channels { get; }
    public abstract int Height { get; }
    public abstract int Width { get; }

    /// <summary>Class names, indexed by label.</summary>
    public abstract IReadOnlyList<string> Classes { get; }

    public abstract int Label(int index);

    /// <summary>
    /// The name of a second label every image carries, or null: "texture" for the shapes data
    /// (the class whose texture fills the shape; differs from the label in cue-conflict images),
    /// "coarse" for CIFAR-100's superclasses.
    /// </summary>
    public virtual string? SecondaryLabelName => null;

    /// <summary>Class names of the secondary label, or null when there is none.</summary>
    public virtual IReadOnlyList<string>? SecondaryClasses => null;

    /// <summary>The secondary label of an image, or -1 when the dataset has none.</summary>
    public virtual int SecondaryLabel(int index) => -1;

    /// <summary>Writes image <paramref name="index"/> into <paramref name="destination"/> (C×H×W values in [0, 1]).</summary>
    public abstract void ReadImage(int index, Span<float> destination);

    public int ImageLength => Channels * Height * Width;

    public Image ReadImage(int index)
    {
        var image = new Image(Channels, Height, Width);
        ReadImage(index, image.Pixels);
        return image;
    }

    public Sample Get(int index) => new(index, ReadImage(index), Label(index), SecondaryLabel(index));

    /// <summary>"shapes/test".</summary>
    public string FullName => $"{Name}/{Split}";

    public override string ToString() => $"{FullName}: {Count} images of {Channels}×{Height}×{Width}, {Classes.Count} classes";

    protected void CheckIndex(int index)
    {
        if ((uint)index >= (uint)Count)
            throw new ArgumentOutOfRangeException(nameof(index), $"Index {index} is out of range for {FullName} ({Count} images).");
    }

    protected void CheckDestination(Span<float> destination)
    {
        if (destination.Length != ImageLength)
            throw new ArgumentException($"{FullName}: an image has {ImageLength} values ({Channels}×{Height}×{Width}), the destination holds {destination.Length}.", nameof(destination));
    }
}

/// <summary>One image with its labels and its index in the dataset. Disposing it returns the image's buffer.</summary>
public sealed class Sample : IDisposable
{
    public Sample(int index, Image image, int label, int secondaryLabel = -1)
    {
        Index = index;
        Image = image;
        Label = label;
        SecondaryLabel = secondaryLabel;
    }

    public int Index { get; }
    public Image Image { get; }
    public int Label { get; }
    public int SecondaryLabel { get; }

    public void Dispose() => Image.Dispose();
}
