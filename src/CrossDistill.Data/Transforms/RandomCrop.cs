using CrossDistill.Engine;

namespace CrossDistill.Data.Transforms;

/// <summary>How <see cref="RandomCrop"/> fills the padding.</summary>
public enum PaddingMode
{
    /// <summary>A constant value (torchvision's default, 0).</summary>
    Constant,

    /// <summary>The nearest edge pixel repeated.</summary>
    Edge,

    /// <summary>Mirrored without repeating the edge pixel (numpy/torch "reflect").</summary>
    Reflect,
}

/// <summary>
/// Pads each side by <see cref="Padding"/> pixels, then cuts a height×width window at a uniformly
/// random position (torchvision's RandomCrop(size, padding)), the usual CIFAR augmentation.
/// </summary>
public sealed class RandomCrop : ITransform
{
    public RandomCrop(int height, int width, int padding = 0, PaddingMode mode = PaddingMode.Constant, float fill = 0f)
    {
        if (height <= 0 || width <= 0) throw new ArgumentException($"RandomCrop: size must be positive, got {height}×{width}.");
        if (padding < 0) throw new ArgumentException($"RandomCrop: padding cannot be negative, got {padding}.");
        Height = height;
        Width = width;
        Padding = padding;
        Mode = mode;
        Fill = fill;
    }

    /// <summary>A size×size crop after padding each side by <paramref name="padding"/> (RandomCrop(32, padding=4) for CIFAR).</summary>
    public static RandomCrop Square(int size, int padding = 0, PaddingMode mode = PaddingMode.Constant, float fill = 0f) => new(size, size, padding, mode, fill);

    public int Height { get; }
    public int Width { get; }
    public int Padding { get; }
    public PaddingMode Mode { get; }
    public float Fill { get; }

    public Image Apply(Image image, Generator rng)
    {
        int paddedH = image.Height + 2 * Padding, paddedW = image.Width + 2 * Padding;
        if (Height > paddedH || Width > paddedW)
            throw new ArgumentException($"RandomCrop: a {Height}×{Width} crop does not fit a {image.Height}×{image.Width} image padded by {Padding}.");
        if (Mode == PaddingMode.Reflect && Padding > 0 && (Padding >= image.Height || Padding >= image.Width))
            throw new ArgumentException($"RandomCrop: reflect padding {Padding} needs an image larger than the padding, got {image.Height}×{image.Width}.");
        int top = rng.NextInt(paddedH - Height + 1) - Padding;
        int left = rng.NextInt(paddedW - Width + 1) - Padding;
        return Crop(image, top, left);
    }

    /// <summary>The window whose top-left corner is at (<paramref name="top"/>, <paramref name="left"/>) in the unpadded image's coordinates.</summary>
    public Image Crop(Image image, int top, int left)
    {
        var result = new Image(image.Channels, Height, Width);
        // The columns of the window that fall inside the image; the rest is padding.
        int inFrom = Math.Clamp(-left, 0, Width), inTo = Math.Clamp(image.Width - left, inFrom, Width);
        for (int c = 0; c < image.Channels; c++)
        {
            var source = image.Plane(c);
            var target = result.Plane(c);
            for (int y = 0; y < Height; y++)
            {
                var row = target.Slice(y * Width, Width);
                int sy = top + y;
                if (Mode == PaddingMode.Constant && (sy < 0 || sy >= image.Height))
                {
                    row.Fill(Fill);
                    continue;
                }
                var sourceRow = source.Slice(MapIndex(sy, image.Height) * image.Width, image.Width);
                if (inTo > inFrom) sourceRow.Slice(left + inFrom, inTo - inFrom).CopyTo(row.Slice(inFrom, inTo - inFrom));
                for (int x = 0; x < inFrom; x++) row[x] = Mode == PaddingMode.Constant ? Fill : sourceRow[MapIndex(left + x, image.Width)];
                for (int x = inTo; x < Width; x++) row[x] = Mode == PaddingMode.Constant ? Fill : sourceRow[MapIndex(left + x, image.Width)];
            }
        }
        image.Dispose();
        return result;
    }

    private int MapIndex(int i, int size)
    {
        if (i >= 0 && i < size) return i;
        if (Mode == PaddingMode.Edge) return Math.Clamp(i, 0, size - 1);
        return i < 0 ? -i : 2 * (size - 1) - i;
    }
}
