namespace CrossDistill.Engine.Kernels;

/// <summary>
/// Sizes of one 2-d convolution: input [N, Cin, H, W], weight [Cout, Cin/groups, KH, KW], output
/// [N, Cout, OH, OW], with stride, zero padding and dilation per spatial dim. Kernels address
/// activations as NHWC (channels-last) arrays.
/// </summary>
internal readonly record struct ConvGeometry(
    int N, int Cin, int H, int W, int Cout, int KH, int KW,
    int StrideH, int StrideW, int PadH, int PadW, int DilationH, int DilationW, int Groups)
{
    public int OH => (H + 2 * PadH - DilationH * (KH - 1) - 1) / StrideH + 1;
    public int OW => (W + 2 * PadW - DilationW * (KW - 1) - 1) / StrideW + 1;
    public int CinPerGroup => Cin / Groups;
    public int CoutPerGroup => Cout / Groups;
    public int Taps => KH * KW;

    /// <summary>Columns of one group's im2col block: taps × input channels of the group.</summary>
    public int GroupColumns => Taps * CinPerGroup;

    /// <summary>Columns of a whole im2col row, grouped as (group, kh, kw, channel).</summary>
    public int Columns => Groups * GroupColumns;

    /// <summary>Output pixels of the whole batch: the rows of the im2col matrix and of the NHWC output.</summary>
    public int OutputPixels => N * OH * OW;

    /// <summary>A 1×1 kernel that reads every input pixel once: the convolution is a plain product with the weight.</summary>
    public bool IsPointwise => KH == 1 && KW == 1 && StrideH == 1 && StrideW == 1 && PadH == 0 && PadW == 0;

    /// <summary>One input channel per output channel and group.</summary>
    public bool IsDepthwise => Groups > 1 && Groups == Cin && Cout == Cin;

    /// <summary>Checks the arguments the way torch.nn.functional.conv2d does; the messages name the argument and shapes.</summary>
    public static ConvGeometry Create(int[] input, int[] weight, int[]? bias, int[]? stride, int[]? padding, int[]? dilation, int groups)
    {
        string shapes = $"input {ShapeUtil.Format(input)}, weight {ShapeUtil.Format(weight)}";
        if (input.Length != 4) throw new ArgumentException($"Conv2d: input must be 4-d [N, C, H, W] (or 3-d unbatched), got {ShapeUtil.Format(input)}.");
        if (weight.Length != 4) throw new ArgumentException($"Conv2d: weight must be 4-d [Cout, Cin/groups, KH, KW], got {ShapeUtil.Format(weight)}.");
        if (groups < 1) throw new ArgumentException($"Conv2d: groups must be positive, got {groups}.");
        var (sh, sw) = Pair(stride, 1, "stride");
        var (ph, pw) = Pair(padding, 0, "padding");
        var (dh, dw) = Pair(dilation, 1, "dilation");
        if (sh < 1 || sw < 1) throw new ArgumentException($"Conv2d: stride must be positive, got ({sh}, {sw}).");
        if (ph < 0 || pw < 0) throw new ArgumentException($"Conv2d: padding must be non-negative, got ({ph}, {pw}).");
        if (dh < 1 || dw < 1) throw new ArgumentException($"Conv2d: dilation must be positive, got ({dh}, {dw}).");
        int cout = weight[0];
        if (input[1] != weight[1] * groups)
            throw new ArgumentException($"Conv2d: {shapes}, groups {groups}: expected {weight[1] * groups} input channels, got {input[1]}.");
        if (cout % groups != 0)
            throw new ArgumentException($"Conv2d: {shapes}: {cout} output channels are not divisible by groups {groups}.");
        if (bias is not null && (bias.Length != 1 || bias[0] != cout))
            throw new ArgumentException($"Conv2d: bias must have shape [{cout}], got {ShapeUtil.Format(bias)}.");
        var g = new ConvGeometry(input[0], input[1], input[2], input[3], cout, weight[2], weight[3], sh, sw, ph, pw, dh, dw, groups);
        if (weight[2] < 1 || weight[3] < 1 || g.H + 2 * ph < dh * (g.KH - 1) + 1 || g.W + 2 * pw < dw * (g.KW - 1) + 1)
            throw new ArgumentException($"Conv2d: {shapes}, padding ({ph}, {pw}), dilation ({dh}, {dw}): the (dilated) kernel is larger than the padded input.");
        return g;
    }

    private static (int, int) Pair(int[]? values, int fallback, string name) => values switch
    {
        null => (fallback, fallback),
        { Length: 1 } => (values[0], values[0]),
        { Length: 2 } => (values[0], values[1]),
        _ => throw new ArgumentException($"Conv2d: {name} must have 1 or 2 values, got {values.Length}."),
    };
}
