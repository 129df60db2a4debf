using CrossDistill.Engine;

namespace CrossDistill.Data.Transforms;

/// <summary>
/// torchvision's RandomResizedCrop: a window covering a random fraction of the area (in
/// <see cref="Scale"/>) with a random aspect ratio (log-uniform in <see cref="Ratio"/>), resized
/// bilinearly to height×width. After ten windows that do not fit, a centre crop with the ratio
/// clamped to the range.
/// </summary>
public sealed class RandomResizedCrop : ITransform
{
    public RandomResizedCrop(int height, int width, (double Min, double Max)? scale = null, (double Min, double Max)? ratio = null, bool antialias = true)
    {
        if (height <= 0 || width <= 0) throw new ArgumentException($"RandomResizedCrop: size must be positive, got {height}×{width}.");
        Scale = scale ?? (0.08, 1.0);
        Ratio = ratio ?? (3.0 / 4, 4.0 / 3);
        if (!(Scale.Min > 0 && Scale.Min <= Scale.Max && Scale.Max <= 1))
            throw new ArgumentException($"RandomResizedCrop: scale must satisfy 0 < min <= max <= 1, got ({Scale.Min}, {Scale.Max}).");
        if (!(Ratio.Min > 0 && Ratio.Min <= Ratio.Max))
            throw new ArgumentException($"RandomResizedCrop: ratio must satisfy 0 < min <= max, got ({Ratio.Min}, {Ratio.Max}).");
        Height = height;
        Width = width;
        Antialias = antialias;
    }

    public RandomResizedCrop(int size, (double Min, double Max)? scale = null, (double Min, double Max)? ratio = null) : this(size, size, scale, ratio) { }

    public int Height { get; }
    public int Width { get; }
    public (double Min, double Max) Scale { get; }
    public (double Min, double Max) Ratio { get; }
    public bool Antialias { get; }

    /// <summary>The window (top, left, height, width) for an image of <paramref name="imageHeight"/>×<paramref name="imageWidth"/>.</summary>
    public (int Top, int Left, int Height, int Width) SampleWindow(int imageHeight, int imageWidth, Generator rng)
    {
        double area = (double)imageHeight * imageWidth;
        double logMin = Math.Log(Ratio.Min), logMax = Math.Log(Ratio.Max);
        for (int attempt = 0; attempt < 10; attempt++)
        {
            double targetArea = area * rng.NextUniform(Scale.Min, Scale.Max);
            double aspect = Math.Exp(rng.NextUniform(logMin, logMax));
            int w = (int)Math.Round(Math.Sqrt(targetArea * aspect));
            int h = (int)Math.Round(Math.Sqrt(targetArea / aspect));
            if (w > 0 && w <= imageWidth && h > 0 && h <= imageHeight)
            {
                int top = rng.NextInt(imageHeight - h + 1);
                int left = rng.NextInt(imageWidth - w + 1);
                return (top, left, h, w);
            }
        }
        double inRatio = (double)imageWidth / imageHeight;
        int cropW, cropH;
        if (inRatio < Ratio.Min)
        {
            cropW = imageWidth;
            cropH = (int)Math.Round(cropW / Ratio.Min);
        }
        else if (inRatio > Ratio.Max)
        {
            cropH = imageHeight;
            cropW = (int)Math.Round(cropH * Ratio.Max);
        }
        else
        {
            cropW = imageWidth;
            cropH = imageHeight;
        }
        return ((imageHeight - cropH) / 2, (imageWidth - cropW) / 2, cropH, cropW);
    }

    public Image Apply(Image image, Generator rng)
    {
        var (top, left, h, w) = SampleWindow(image.Height, image.Width, rng);
        var result = Resampling.ResizeRegion(image, top, left, h, w, Height, Width, Antialias);
        image.Dispose();
        return result;
    }
}
