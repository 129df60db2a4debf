namespace CrossDistill.Engine;

/// <summary>
/// A seeded pseudo-random generator (xoshiro256**, seeded by SplitMix64). Every random draw in
/// the engine goes through one, on the calling thread, so a seed fixes a run bit for bit whatever
/// the number of worker threads.
/// </summary>
public sealed class Generator
{
    private ulong _s0, _s1, _s2, _s3;
    private double? _spareNormal;

    public Generator(ulong seed = 0) => ManualSeed(seed);

    [ThreadStatic] private static Generator? _default;

    /// <summary>The generator used when an op is not given one (per thread, seeded with 0 until <see cref="Torch.ManualSeed"/>).</summary>
    public static Generator Default
    {
        get => _default ??= new Generator(0);
        set => _default = value;
    }

    public ulong Seed { get; private set; }

    public void ManualSeed(ulong seed)
    {
        Seed = seed;
        ulong x = seed;
        _s0 = SplitMix(ref x); _s1 = SplitMix(ref x); _s2 = SplitMix(ref x); _s3 = SplitMix(ref x);
        _spareNormal = null;
    }

    private static ulong SplitMix(ref ulong x)
    {
        ulong z = x += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    public ulong NextUInt64()
    {
        ulong result = ulong.RotateLeft(_s1 * 5, 7) * 9;
        ulong t = _s1 << 17;
        _s2 ^= _s0; _s3 ^= _s1; _s1 ^= _s2; _s0 ^= _s3;
        _s2 ^= t;
        _s3 = ulong.RotateLeft(_s3, 45);
        return result;
    }

    /// <summary>Uniform in [0, 1) with 24 bits of precision.</summary>
    public float NextFloat() => (NextUInt64() >> 40) * (1.0f / (1 << 24));

    /// <summary>Uniform in [0, 1) with 53 bits of precision.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform integer in [0, n).</summary>
    public int NextInt(int n)
    {
        if (n <= 0) throw new ArgumentOutOfRangeException(nameof(n));
        // Lemire's multiply-shift with rejection keeps the draw unbiased.
        ulong range = (ulong)n;
        while (true)
        {
            ulong x = NextUInt64() >> 32;
            ulong m = x * range;
            if ((uint)m >= (uint)((0x1_0000_0000UL - range) % range)) return (int)(m >> 32);
        }
    }

    /// <summary>Standard normal draw (Box–Muller).</summary>
    public double NextNormal()
    {
        if (_spareNormal is double spare) { _spareNormal = null; return spare; }
        double u1;
        do u1 = NextDouble(); while (u1 <= double.Epsilon);
        double u2 = NextDouble();
        double r = Math.Sqrt(-2.0 * Math.Log(u1));
        _spareNormal = r * Math.Sin(2 * Math.PI * u2);
        return r * Math.Cos(2 * Math.PI * u2);
    }

    /// <summary>The full state, for checkpoints.</summary>
    public ulong[] GetState() => new[] { _s0, _s1, _s2, _s3, Seed, _spareNormal is double d ? 1UL : 0UL, _spareNormal is double e ? BitConverter.DoubleToUInt64Bits(e) : 0UL };

    public void SetState(ulong[] state)
    {
        if (state.Length != 7) throw new ArgumentException("A generator state has 7 words.");
        (_s0, _s1, _s2, _s3, Seed) = (state[0], state[1], state[2], state[3], state[4]);
        _spareNormal = state[5] != 0 ? BitConverter.UInt64BitsToDouble(state[6]) : null;
    }

    /// <summary>Fisher–Yates permutation of 0..n-1.</summary>
    public int[] Permutation(int n)
    {
        var p = new int[n];
        for (int i = 0; i < n; i++) p[i] = i;
        for (int i = n - 1; i > 0; i--)
        {
            int j = NextInt(i + 1);
            (p[i], p[j]) = (p[j], p[i]);
        }
        return p;
    }
}
