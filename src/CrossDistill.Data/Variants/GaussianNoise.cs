using CrossDistill.Engine;

namespace CrossDistill.Data.Variants;

/// <summary>
/// Additive Gaussian noise on images in [0, 1], clipped back to [0, 1], as CIFAR-10-C's
/// gaussian_noise corruption (Hendrycks and Dietterich 2019). Apply it before normalising.
/// </summary>
public static class GaussianNoise
{
    /// <summary>σ for severities 1–5 at 32 px, from CIFAR-10-C's make_cifar_c.py.</summary>
    public static readonly IReadOnlyList<double> Cifar10CSigmas = new[] { 0.04, 0.06, 0.08, 0.09, 0.10 };

    public static double SigmaForSeverity(int severity)
    {
        if (severity < 1 || severity > 5) throw new ArgumentOutOfRangeException(nameof(severity), $"Gaussian noise severity must be 1-5, got {severity}.");
        return Cifar10CSigmas[severity - 1];
    }

    public static void Apply(Span<float> pixels, double sigma, Generator rng)
    {
        if (!(sigma >= 0)) throw new ArgumentOutOfRangeException(nameof(sigma), $"Gaussian noise σ must be non-negative, got {sigma}.");
        for (int i = 0; i < pixels.Length; i++)
            pixels[i] = Math.Clamp((float)(pixels[i] + sigma * rng.NextNormal()), 0f, 1f);
    }
}

/// <summary>
/// Another dataset with fixed Gaussian noise added to each image: the noise of image i depends
/// only on the seed, σ and i, so the corrupted set is the same every time it is read.
/// </summary>
public sealed class GaussianNoiseDataset : Dataset
{
    private readonly Dataset _inner;
    private readonly ulong _seed;
    private readonly string _split;

    public GaussianNoiseDataset(Dataset inner, double sigma, ulong seed = 0, string? splitName = null)
    {
        if (!(sigma >= 0)) throw new ArgumentOutOfRangeException(nameof(sigma), $"{inner.Name}: Gaussian noise σ must be non-negative, got {sigma}.");
        _inner = inner;
        Sigma = sigma;
        _seed = seed;
        _split = splitName ?? $"noise-sigma-{sigma.ToString(System.Globalization.CultureInfo.InvariantCulture)}";
    }

    /// <summary>The CIFAR-10-C severity <paramref name="severity"/> (1–5) of <paramref name="inner"/>, named "noise-<paramref name="severity"/>".</summary>
    public static GaussianNoiseDataset Severity(Dataset inner, int severity, ulong seed = 0)
        => new(inner, GaussianNoise.SigmaForSeverity(severity), seed, $"noise-{severity}");

    public double Sigma { get; }

    public override string Name => _inner.Name;
    public override string Split => _split;
    public override int Count => _inner.Count;
    public override int Channels => _inner.Channels;
    public override int Height => _inner.Height;
    public override int Width => _inner.Width;
    public override IReadOnlyList<string> Classes => _inner.Classes;
    public override int Label(int index) => _inner.Label(index);
    public override string? SecondaryLabelName => _inner.SecondaryLabelName;
    public override IReadOnlyList<string>? SecondaryClasses => _inner.SecondaryClasses;
    public override int SecondaryLabel(int index) => _inner.SecondaryLabel(index);

    public override void ReadImage(int index, Span<float> destination)
    {
        CheckIndex(index);
        _inner.ReadImage(index, destination);
        // The seed mixes in σ's bits so that two severities do not share one noise pattern at different scales.
        GaussianNoise.Apply(destination, Sigma, SeedHash.Generator(_seed, SeedHash.Tag("gaussian-noise"), BitConverter.DoubleToInt64Bits(Sigma), index));
    }
}
