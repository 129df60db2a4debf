using CrossDistill.Engine;

namespace CrossDistill.Data.Transforms;

/// <summary>
/// Bilinear resize (torchvision's Resize): to a fixed height×width, or with one size, so the
/// shorter side becomes that size and the aspect ratio is kept. Antialiased when shrinking by
/// default, as torchvision and PIL do.
/// </summary>
public sealed class Resize : ITransform
{
    private readonly int _height, _width, _shorterSide;

    public Resize(int height, int width, bool antialias = true)
    {
        if (height <= 0 || width <= 0) throw new ArgumentException($"Resize: size must be positive, got {height}×{width}.");
        _height = height;
        _width = width;
        Antialias = antialias;
    }

    /// <summary>Resizes so the shorter side is <paramref name="shorterSide"/>.</summary>
    public Resize(int shorterSide, bool antialias = true)
    {
        if (shorterSide <= 0) throw new ArgumentException($"Resize: size must be positive, got {shorterSide}.");
        _shorterSide = shorterSide;
        Antialias = antialias;
    }

    public bool Antialias { get; }

    public (int Height, int Width) OutputSize(int height, int width)
    {
        if (_shorterSide == 0) return (_height, _width);
        // torchvision: the long side is int(size * long / short), truncated.
        return height <= width ? (_shorterSide, (int)((long)_shorterSide * width / height)) : ((int)((long)_shorterSide * height / width), _shorterSide);
    }

    public Image Apply(Image image, Generator rng)
    {
        var (h, w) = OutputSize(image.Height, image.Width);
        if (h == image.Height && w == image.Width) return image;
        var result = Resampling.ResizeRegion(image, 0, 0, image.Height, image.Width, h, w, Antialias);
        image.Dispose();
        return result;
    }
}
