using CrossDistill.Engine;

namespace CrossDistill.Data;

/// <summary>
/// Derives independent seeds from a base seed and a few integers (epoch, sample index, split, …),
/// so every random draw of a sample comes from its own generator and no stream is shared between
/// threads: results cannot depend on which thread prepared a sample, or when.
/// </summary>
public static class SeedHash
{
    public static ulong Combine(ulong seed, long a) => Step(Step(seed ^ 0x2545F4914F6CDD1DUL, 1), (ulong)a);

    public static ulong Combine(ulong seed, long a, long b) => Step(Combine(seed, a), (ulong)b);

    public static ulong Combine(ulong seed, long a, long b, long c) => Step(Combine(seed, a, b), (ulong)c);

    public static ulong Combine(ulong seed, long a, long b, long c, long d) => Step(Combine(seed, a, b, c), (ulong)d);

    public static Generator Generator(ulong seed, long a) => new(Combine(seed, a));

    public static Generator Generator(ulong seed, long a, long b) => new(Combine(seed, a, b));

    public static Generator Generator(ulong seed, long a, long b, long c) => new(Combine(seed, a, b, c));

    public static Generator Generator(ulong seed, long a, long b, long c, long d) => new(Combine(seed, a, b, c, d));

    /// <summary>A stable 64-bit code for a short tag ("cutmix", "noise"), to keep streams apart.</summary>
    public static long Tag(string tag)
    {
        ulong h = 0xCBF29CE484222325UL;
        foreach (char ch in tag) h = (h ^ ch) * 0x100000001B3UL;
        return (long)h;
    }

    private static ulong Step(ulong h, ulong value) => Finalize(h * 0x9E3779B97F4A7C15UL + Finalize(value + 0xD1B54A32D192ED03UL));

    private static ulong Finalize(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}

/// <summary>Distributions the augmentations need beyond the engine's uniform and normal draws.</summary>
public static class GeneratorExtensions
{
    /// <summary>Uniform in [low, high).</summary>
    public static double NextUniform(this Generator rng, double low, double high) => low + (high - low) * rng.NextDouble();

    /// <summary>True with probability <paramref name="p"/>.</summary>
    public static bool NextBool(this Generator rng, double p) => rng.NextDouble() < p;

    /// <summary>Gamma(shape, 1) by Marsaglia and Tsang, boosted for shape &lt; 1.</summary>
    public static double NextGamma(this Generator rng, double shape)
    {
        if (!(shape > 0)) throw new ArgumentOutOfRangeException(nameof(shape), $"Gamma shape must be positive, got {shape}.");
        if (shape < 1)
        {
            double u = rng.NextDouble();
            return rng.NextGamma(shape + 1) * Math.Pow(Math.Max(u, double.Epsilon), 1 / shape);
        }
        double d = shape - 1.0 / 3, c = 1 / Math.Sqrt(9 * d);
        while (true)
        {
            double x, v;
            do
            {
                x = rng.NextNormal();
                v = 1 + c * x;
            } while (v <= 0);
            v = v * v * v;
            double u = rng.NextDouble();
            if (u < 1 - 0.0331 * x * x * x * x) return d * v;
            if (Math.Log(Math.Max(u, double.Epsilon)) < 0.5 * x * x + d * (1 - v + Math.Log(v))) return d * v;
        }
    }

    /// <summary>Beta(a, b) as X/(X+Y) with X ~ Gamma(a), Y ~ Gamma(b).</summary>
    public static double NextBeta(this Generator rng, double a, double b)
    {
        double x = rng.NextGamma(a), y = rng.NextGamma(b);
        double sum = x + y;
        return sum > 0 ? x / sum : 0.5;
    }
}
