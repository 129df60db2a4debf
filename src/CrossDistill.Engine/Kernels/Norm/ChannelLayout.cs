namespace CrossDistill.Engine.Kernels;

/// <summary>
/// How the batch- and group-norm kernels walk an (N, C, *) tensor: as N·C contiguous planes of
/// Inner elements (NCHW-contiguous) or as N·Inner rows of C channels (channels-last, and any dense
/// layout with the channels innermost and the samples outermost, such as a contiguous (N, C)).
/// </summary>
internal readonly struct ChannelLayout
{
    public readonly int N, C, Inner;
    public readonly bool ChannelsLast;

    private ChannelLayout(int n, int c, int inner, bool channelsLast)
    {
        N = n;
        C = c;
        Inner = inner;
        ChannelsLast = channelsLast;
    }

    /// <summary>Rows of C channels in the channels-last walk.</summary>
    public int Rows => N * Inner;

    public int Planes => N * C;

    /// <summary>
    /// Returns <paramref name="x"/> when one of the two walks applies to it, else an unrecorded
    /// NCHW-contiguous copy (<paramref name="copied"/> is then true and the caller owns it).
    /// </summary>
    public static Tensor Prepare(Tensor x, out ChannelLayout layout, out bool copied)
    {
        int n = x.Shape[0], c = x.Shape[1];
        int inner = n * c == 0 ? 0 : x.Numel / (n * c);
        copied = false;
        if (x.IsDense && c > 1 && x.Strides[1] == 1 && (n == 1 || x.Strides[0] == c * inner))
        {
            layout = new ChannelLayout(n, c, inner, channelsLast: true);
            return x;
        }
        layout = new ChannelLayout(n, c, inner, channelsLast: false);
        if (x.IsContiguous) return x;
        copied = true;
        return OperandLayout.CopyContiguous(x);
    }
}
