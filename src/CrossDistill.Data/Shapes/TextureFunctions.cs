namespace CrossDistill.Data.Shapes;

/// <summary>
/// The ten class textures as functions of a point in the texture's frame (rotated, scaled so one
/// period is one unit, shifted): each returns how much of the second ink to use, in [0, 1]. The
/// families differ in structure (parallel bands, a lattice of dots, a two-way tiling, wavy or
/// zigzag bands, concentric bands, blotchy noise, thin lines, staggered bricks, ramps), not in
/// colour, which is drawn independently of the class.
/// </summary>
public static class TextureFunctions
{
    public static readonly IReadOnlyList<string> Names = new[]
    {
        "stripes", "dots", "checkers", "waves", "noise", "grid", "zigzag", "rings", "bricks", "ramps",
    };

    public const int Count = 10;

    /// <param name="texture">The texture family.</param>
    /// <param name="u">Position across the pattern, in periods, from the pattern's origin (the centre of the rings).</param>
    /// <param name="v">Position along the pattern, in periods.</param>
    /// <param name="seed">Seeds the noise texture's lattice.</param>
    public static float Evaluate(int texture, float u, float v, uint seed) => texture switch
    {
        0 => Frac(u) < 0.5f ? 1f : 0f,
        1 => Dot(u, v),
        2 => (((int)MathF.Floor(u) + (int)MathF.Floor(v)) & 1) == 0 ? 1f : 0f,
        3 => Frac(v + 0.35f * MathF.Sin(MathF.PI * u)) < 0.5f ? 1f : 0f,
        4 => Math.Clamp((ValueNoise(u * 0.8f, v * 0.8f, seed) - 0.5f) * 2.2f + 0.5f, 0f, 1f),
        5 => Frac(u) < 0.28f || Frac(v) < 0.28f ? 1f : 0f,
        6 => Frac(v + 1.6f * MathF.Abs(Frac(u * 0.5f) - 0.5f)) < 0.5f ? 1f : 0f,
        7 => Frac(MathF.Sqrt(u * u + v * v)) < 0.5f ? 1f : 0f,
        8 => Brick(u, v),
        9 => Frac(u),
        _ => throw new ArgumentOutOfRangeException(nameof(texture), $"Texture class {texture} is not in 0..{Count - 1}."),
    };

    private static float Frac(float x) => x - MathF.Floor(x);

    private static float Dot(float u, float v)
    {
        float du = Frac(u) - 0.5f, dv = Frac(v) - 0.5f;
        return du * du + dv * dv < 0.3f * 0.3f ? 1f : 0f;
    }

    // Bricks two periods wide and one high, every other row shifted by half a brick; 0 on the mortar.
    private static float Brick(float u, float v)
    {
        float row = MathF.Floor(v);
        float across = u * 0.5f + ((int)row & 1) * 0.5f;
        return Frac(across) < 0.12f || Frac(v) < 0.22f ? 0f : 1f;
    }

    private static float ValueNoise(float u, float v, uint seed)
    {
        float fu = MathF.Floor(u), fv = MathF.Floor(v);
        int iu = (int)fu, iv = (int)fv;
        float tu = u - fu, tv = v - fv;
        tu = tu * tu * (3 - 2 * tu);
        tv = tv * tv * (3 - 2 * tv);
        float a = Lattice(iu, iv, seed), b = Lattice(iu + 1, iv, seed), c = Lattice(iu, iv + 1, seed), d = Lattice(iu + 1, iv + 1, seed);
        return a + (b - a) * tu + (c - a) * tv + (a - b - c + d) * tu * tv;
    }

    private static float Lattice(int x, int y, uint seed)
    {
        uint h = unchecked((uint)x * 0x27D4EB2Du ^ (uint)y * 0x165667B1u ^ seed);
        h ^= h >> 15;
        h *= 0x2C1B3C6Du;
        h ^= h >> 12;
        h *= 0x297A2D39u;
        h ^= h >> 15;
        return (h >> 8) * (1f / (1 << 24));
    }
}
