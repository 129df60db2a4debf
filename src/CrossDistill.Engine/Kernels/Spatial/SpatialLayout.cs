namespace CrossDistill.Engine.Kernels;

/// <summary>
/// An image batch (N, C, H, W), or a single image (C, H, W), seen by the spatial kernels as row-major
/// [planes, H, W, channels]: a row-major input is N·C planes of one channel, a channels-last input
/// is N planes of C interleaved channels, which the kernels vectorise over.
/// </summary>
internal readonly struct SpatialLayout
{
    public readonly bool ChannelsLast;
    public readonly bool Batched;
    public readonly int N, C, H, W;

    private SpatialLayout(bool channelsLast, bool batched, int n, int c, int h, int w)
    {
        ChannelsLast = channelsLast;
        Batched = batched;
        (N, C, H, W) = (n, c, h, w);
    }

    /// <summary>The layout of <paramref name="x"/>; 3-d inputs are accepted when <paramref name="allowUnbatched"/>.</summary>
    public static SpatialLayout Of(string op, Tensor x, bool allowUnbatched)
    {
        if (x.DType != DType.Float32) throw new ArgumentException($"{op}: expected a float32 tensor, got {x.DType}.", nameof(x));
        if (x.Rank == 4) return new SpatialLayout(DataLayout.IsChannelsLastInput(x), true, x.Shape[0], x.Shape[1], x.Shape[2], x.Shape[3]);
        if (x.Rank == 3 && allowUnbatched) return new SpatialLayout(false, false, 1, x.Shape[0], x.Shape[1], x.Shape[2]);
        throw new ArgumentException($"{op}: expected a {(allowUnbatched ? "3-d (C, H, W) or " : "")}4-d (N, C, H, W) tensor, got shape {ShapeUtil.Format(x.Shape)}.", nameof(x));
    }

    public int Planes => ChannelsLast ? N : N * C;

    /// <summary>Channels interleaved per pixel: C for channels-last, else 1.</summary>
    public int Channels => ChannelsLast ? C : 1;

    /// <summary>The values of a tensor with this layout's rank, stored as the kernels expect (an alias when already so).</summary>
    public Tensor Data(Tensor t) => ChannelsLast ? DataLayout.ChannelsLast(t) : DataLayout.Contiguous(t);

    /// <summary>A new tensor of spatial size <paramref name="h"/>×<paramref name="w"/> stored as the kernels expect.</summary>
    public Tensor New(int h, int w, bool zero = false)
        => DataLayout.Empty(Batched ? new[] { N, C, h, w } : new[] { C, h, w }, ChannelsLast, zero);
}
