using CrossDistill.Data.Variants;
using CrossDistill.Engine;

namespace CrossDistill.Data.Transforms;

/// <summary>Mirrors the image left to right with probability <see cref="Probability"/>.</summary>
public sealed class RandomHorizontalFlip : ITransform
{
    public RandomHorizontalFlip(double probability = 0.5)
    {
        if (!(probability >= 0 && probability <= 1)) throw new ArgumentException($"RandomHorizontalFlip: probability must be in [0, 1], got {probability}.");
        Probability = probability;
    }

    public double Probability { get; }

    public Image Apply(Image image, Generator rng)
    {
        // Always draw, so the stream's position does not depend on the outcome.
        if (rng.NextDouble() < Probability) Flip(image);
        return image;
    }

    public static void Flip(Image image)
    {
        for (int c = 0; c < image.Channels; c++)
        {
            var plane = image.Plane(c);
            for (int y = 0; y < image.Height; y++) plane.Slice(y * image.Width, image.Width).Reverse();
        }
    }
}

/// <summary>(x − mean) / std per channel, with the training set's statistics.</summary>
public sealed class Normalize : ITransform
{
    private readonly float[] _mean, _invStd;

    public Normalize(float[] mean, float[] std)
    {
        if (mean.Length == 0 || mean.Length != std.Length)
            throw new ArgumentException($"Normalize: mean has {mean.Length} values and std {std.Length}; they need one per channel.");
        if (std.Any(s => !(s > 0))) throw new ArgumentException($"Normalize: std must be positive, got ({string.Join(", ", std)}).");
        _mean = (float[])mean.Clone();
        _invStd = std.Select(s => 1f / s).ToArray();
    }

    public Normalize(Catalog.ChannelStatistics statistics) : this(statistics.MeanF, statistics.StdF) { }

    public IReadOnlyList<float> Mean => _mean;

    public Image Apply(Image image, Generator rng)
    {
        if (image.Channels != _mean.Length)
            throw new ArgumentException($"Normalize: has statistics for {_mean.Length} channels, the image has {image.Channels} ({image.ShapeText}).");
        for (int c = 0; c < image.Channels; c++)
        {
            float m = _mean[c], s = _invStd[c];
            var plane = image.Plane(c);
            for (int i = 0; i < plane.Length; i++) plane[i] = (plane[i] - m) * s;
        }
        return image;
    }
}

/// <summary>Repeats a one-channel image into three channels, so greyscale data fits RGB models; three-channel images pass through.</summary>
public sealed class GreyToRgb : ITransform
{
    public Image Apply(Image image, Generator rng)
    {
        if (image.Channels == 3) return image;
        if (image.Channels != 1) throw new ArgumentException($"GreyToRgb: expects 1 or 3 channels, got {image.ShapeText}.");
        var result = new Image(3, image.Height, image.Width);
        for (int c = 0; c < 3; c++) image.Pixels.CopyTo(result.Plane(c));
        image.Dispose();
        return result;
    }
}

/// <summary>The central height×width window (torchvision's CenterCrop; the image must be at least that large).</summary>
public sealed class CenterCrop : ITransform
{
    public CenterCrop(int height, int width)
    {
        if (height <= 0 || width <= 0) throw new ArgumentException($"CenterCrop: size must be positive, got {height}×{width}.");
        Height = height;
        Width = width;
    }

    public int Height { get; }
    public int Width { get; }

    public Image Apply(Image image, Generator rng)
    {
        if (Height > image.Height || Width > image.Width)
            throw new ArgumentException($"CenterCrop: a {Height}×{Width} window does not fit a {image.ShapeText} image.");
        if (Height == image.Height && Width == image.Width) return image;
        // torchvision rounds the offsets: int(round((H - h) / 2)).
        int top = (int)Math.Round((image.Height - Height) / 2.0), left = (int)Math.Round((image.Width - Width) / 2.0);
        return new RandomCrop(Height, Width).Crop(image, top, left);
    }
}

/// <summary>Shuffles the cells of a rows×columns grid (see <see cref="PatchShuffle"/>), a new permutation per sample.</summary>
public sealed class PatchShuffleTransform : ITransform
{
    public PatchShuffleTransform(int rows, int columns)
    {
        if (rows <= 0 || columns <= 0) throw new ArgumentException($"PatchShuffleTransform: grid must be positive, got {rows}×{columns}.");
        Rows = rows;
        Columns = columns;
    }

    public int Rows { get; }
    public int Columns { get; }

    public Image Apply(Image image, Generator rng)
    {
        PatchShuffle.ApplyInPlace(image, Rows, Columns, rng);
        return image;
    }
}

/// <summary>Adds Gaussian noise of standard deviation σ and clips to [0, 1] (see <see cref="GaussianNoise"/>); use before <see cref="Normalize"/>.</summary>
public sealed class GaussianNoiseTransform : ITransform
{
    public GaussianNoiseTransform(double sigma)
    {
        if (!(sigma >= 0)) throw new ArgumentException($"GaussianNoiseTransform: σ must be non-negative, got {sigma}.");
        Sigma = sigma;
    }

    public double Sigma { get; }

    public Image Apply(Image image, Generator rng)
    {
        GaussianNoise.Apply(image.Pixels, Sigma, rng);
        return image;
    }
}
