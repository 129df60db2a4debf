using System.Buffers;
using CrossDistill.Engine;

namespace CrossDistill.Data.Variants;

/// <summary>
/// Cuts an image into a rows×columns grid of equal cells and puts the cells back in a random
/// order (Naseer et al. 2021's permutation-invariance test). The grid must divide the image.
/// </summary>
public static class PatchShuffle
{
    /// <summary>Checks that a grid divides an image, naming <paramref name="what"/> in the error.</summary>
    public static void CheckGrid(int height, int width, int rows, int columns, string what)
    {
        if (rows <= 0 || columns <= 0) throw new ArgumentException($"{what}: a patch grid needs at least one row and column, got {rows}×{columns}.");
        if (height % rows != 0 || width % columns != 0)
            throw new ArgumentException($"{what}: a {rows}×{columns} patch grid does not divide {height}×{width} images into equal cells (resize the images first).");
    }

    /// <summary>Writes into <paramref name="destination"/> cell k of the grid taken from cell <paramref name="permutation"/>[k] of <paramref name="source"/>.</summary>
    public static void Apply(ReadOnlySpan<float> source, Span<float> destination, int channels, int height, int width, int rows, int columns, ReadOnlySpan<int> permutation)
    {
        CheckGrid(height, width, rows, columns, "PatchShuffle");
        if (permutation.Length != rows * columns) throw new ArgumentException($"PatchShuffle: {permutation.Length} cells in the permutation for a {rows}×{columns} grid.");
        if (source.Length != channels * height * width || destination.Length != source.Length)
            throw new ArgumentException($"PatchShuffle: buffers of {source.Length} and {destination.Length} values for {channels}×{height}×{width}.");
        int cellH = height / rows, cellW = width / columns;
        for (int cell = 0; cell < permutation.Length; cell++)
        {
            int from = permutation[cell];
            int toY = cell / columns * cellH, toX = cell % columns * cellW;
            int fromY = from / columns * cellH, fromX = from % columns * cellW;
            for (int c = 0; c < channels; c++)
                for (int y = 0; y < cellH; y++)
                    source.Slice((c * height + fromY + y) * width + fromX, cellW).CopyTo(destination.Slice((c * height + toY + y) * width + toX, cellW));
        }
    }

    /// <summary>Shuffles <paramref name="image"/>'s cells with a permutation drawn from <paramref name="rng"/>.</summary>
    public static void ApplyInPlace(Image image, int rows, int columns, Generator rng)
    {
        CheckGrid(image.Height, image.Width, rows, columns, "PatchShuffle");
        var permutation = rng.Permutation(rows * columns);
        var copy = ArrayPool<float>.Shared.Rent(image.Length);
        try
        {
            image.Pixels.CopyTo(copy);
            Apply(copy.AsSpan(0, image.Length), image.Pixels, image.Channels, image.Height, image.Width, rows, columns, permutation);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(copy);
        }
    }
}

/// <summary>
/// Another dataset with each image's grid cells shuffled. The permutation of image i depends
/// only on the seed, the grid and i, so the set is the same every time it is read.
/// </summary>
public sealed class PatchShuffledDataset : Dataset
{
    private readonly Dataset _inner;
    private readonly ulong _seed;

    public PatchShuffledDataset(Dataset inner, int grid, ulong seed = 0) : this(inner, grid, grid, seed) { }

    public PatchShuffledDataset(Dataset inner, int rows, int columns, ulong seed = 0)
    {
        PatchShuffle.CheckGrid(inner.Height, inner.Width, rows, columns, $"{inner.Name} patch-shuffle-{rows}{(rows == columns ? "" : "x" + columns)}");
        _inner = inner;
        Rows = rows;
        Columns = columns;
        _seed = seed;
    }

    public int Rows { get; }
    public int Columns { get; }

    public override string Name => _inner.Name;
    public override string Split => Rows == Columns ? $"patch-shuffle-{Rows}" : $"patch-shuffle-{Rows}x{Columns}";
    public override int Count => _inner.Count;
    public override int Channels => _inner.Channels;
    public override int Height => _inner.Height;
    public override int Width => _inner.Width;
    public override IReadOnlyList<string> Classes => _inner.Classes;
    public override int Label(int index) => _inner.Label(index);
    public override string? SecondaryLabelName => _inner.SecondaryLabelName;
    public override IReadOnlyList<string>? SecondaryClasses => _inner.SecondaryClasses;
    public override int SecondaryLabel(int index) => _inner.SecondaryLabel(index);

    /// <summary>Which source cell ends up in each cell of image <paramref name="index"/>.</summary>
    public int[] Permutation(int index)
    {
        CheckIndex(index);
        return SeedHash.Generator(_seed, SeedHash.Tag("patch-shuffle"), Rows * 1000 + Columns, index).Permutation(Rows * Columns);
    }

    public override void ReadImage(int index, Span<float> destination)
    {
        CheckDestination(destination);
        var permutation = Permutation(index);
        var source = ArrayPool<float>.Shared.Rent(ImageLength);
        try
        {
            _inner.ReadImage(index, source.AsSpan(0, ImageLength));
            PatchShuffle.Apply(source.AsSpan(0, ImageLength), destination, Channels, Height, Width, Rows, Columns, permutation);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(source);
        }
    }
}
