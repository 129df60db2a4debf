namespace CrossDistill.Models;

/// <summary>
/// The shape of one stage's feature for a single sample: a feature map (C, H, W) from CNNs, or a
/// token sequence (L, D) from transformers and MLPs, of which the first <see cref="TokenSpec.PrefixTokens"/>
/// are class/distillation tokens.
/// </summary>
public abstract record FeatureSpec
{
    /// <summary>The per-sample shape, without the batch dim.</summary>
    public abstract int[] Shape { get; }

    /// <summary>The channel (map) or embedding (token) width.</summary>
    public abstract int ChannelDim { get; }
}

/// <summary>A (C, H, W) feature map; tensors are (N, C, H, W).</summary>
public sealed record MapSpec(int Channels, int Height, int Width) : FeatureSpec
{
    public override int[] Shape => new[] { Channels, Height, Width };
    public override int ChannelDim => Channels;
    public override string ToString() => $"map({Channels}, {Height}, {Width})";
}

/// <summary>A (L, D) token sequence; tensors are (N, L, D). L counts the prefix (class) tokens.</summary>
public sealed record TokenSpec(int Tokens, int Dim, int PrefixTokens = 0) : FeatureSpec
{
    public override int[] Shape => new[] { Tokens, Dim };
    public override int ChannelDim => Dim;

    /// <summary>The patch tokens' grid side when they form a square grid (0 otherwise).</summary>
    public int GridSide
    {
        get
        {
            int patches = Tokens - PrefixTokens;
            int side = (int)Math.Round(Math.Sqrt(patches));
            return side * side == patches ? side : 0;
        }
    }

    public override string ToString() => $"tokens({Tokens}, {Dim}{(PrefixTokens > 0 ? $", prefix {PrefixTokens}" : "")})";
}
