namespace CrossDistill.Data.Shapes;

/// <summary>Settings of the procedurally generated <c>shapes</c> dataset.</summary>
public sealed record ShapesOptions
{
    /// <summary>Image side in pixels.</summary>
    public int Size { get; init; } = 32;

    public int TrainCount { get; init; } = 10_000;

    /// <summary>Images in the test split and in each evaluation split derived from it.</summary>
    public int TestCount { get; init; } = 2_000;

    /// <summary>
    /// The chance that a train or test image's shape is filled with its own class's texture;
    /// otherwise one of the nine other textures is used. At 1 both cues predict the label
    /// perfectly; below 1 the shape is the more reliable cue.
    /// </summary>
    public double TextureProbability { get; init; } = 0.9;

    public ulong Seed { get; init; }

    public void Validate()
    {
        if (Size < 8) throw new ArgumentException($"shapes: image size must be at least 8 pixels, got {Size}.");
        if (Size > 512) throw new ArgumentException($"shapes: image size must be at most 512 pixels, got {Size}.");
        if (TrainCount < 0 || TestCount < 0) throw new ArgumentException($"shapes: image counts cannot be negative (train {TrainCount}, test {TestCount}).");
        if (!(TextureProbability >= 0 && TextureProbability <= 1)) throw new ArgumentException($"shapes: texture probability must be in [0, 1], got {TextureProbability}.");
    }
}

/// <summary>The splits of the shapes data.</summary>
public enum ShapesSplit
{
    Train,
    Test,

    /// <summary>The test images with each shape filled with the texture of another class; the label is the shape's class, the secondary label the texture's.</summary>
    CueConflict,

    /// <summary>The test images with each shape in a flat colour.</summary>
    Silhouette,

    /// <summary>The test images' textures (always the label's own) over the whole image, no shape.</summary>
    TextureOnly,
}
