namespace CrossDistill.Models.Transformers;

/// <summary>
/// How a plain stack of blocks (ViT, Mixer, ResMLP) is cut into the four stages of the feature
/// contract. For 12 blocks the OFA/PAT split reads block outputs 1, 3, 9 and 11 (stages of 2, 2, 6
/// and 2 blocks). Other depths scale those boundaries: stage i ends after round(depth·b_i/12)
/// blocks with b = (2, 4, 10, 12), nudged so that every stage keeps at least one block.
/// </summary>
public static class StageLayout
{
    private static readonly int[] TwelveBlockEnds = { 2, 4, 10, 12 };

    /// <summary>The exclusive end block of each stage; stage i runs blocks [ends[i-1], ends[i]).</summary>
    public static int[] BlockEnds(int depth)
    {
        if (depth < 4) throw new ArgumentException($"StageLayout: {depth} blocks cannot form 4 stages of at least one block each.", nameof(depth));
        var ends = new int[4];
        for (int i = 0; i < 4; i++)
        {
            int scaled = (int)Math.Round(depth * TwelveBlockEnds[i] / 12.0, MidpointRounding.AwayFromZero);
            int lowest = i == 0 ? 1 : ends[i - 1] + 1;
            ends[i] = Math.Clamp(scaled, lowest, depth - (3 - i));
        }
        return ends;
    }

    /// <summary>Linearly increasing stochastic-depth rates from 0 to <paramref name="rate"/>, as torch.linspace in timm.</summary>
    public static float[] DropPathRates(int blocks, float rate)
    {
        var rates = new float[blocks];
        for (int i = 0; i < blocks; i++) rates[i] = blocks == 1 ? 0f : (float)(rate * (double)i / (blocks - 1));
        return rates;
    }
}
