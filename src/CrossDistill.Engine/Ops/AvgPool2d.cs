using CrossDistill.Engine.Kernels;

namespace CrossDistill.Engine;

public static partial class F
{
    /// <summary>
    /// 2-d average pooling of an (N, C, H, W) or (C, H, W) tensor (F.avg_pool2d). One value in an
    /// array applies to both axes; <paramref name="stride"/> defaults to the kernel size. With
    /// <paramref name="countIncludePad"/> the divisor counts padding (up to the padded border),
    /// else only the input elements in the window. Channels-last in, channels-last out.
    /// </summary>
    public static Tensor AvgPool2d(Tensor x, int[] kernelSize, int[]? stride = null, int[]? padding = null, bool ceilMode = false, bool countIncludePad = true)
    {
        const string op = "AvgPool2d";
        var layout = SpatialLayout.Of(op, x, allowUnbatched: true);
        var (kh, kw) = Pair(op, nameof(kernelSize), kernelSize);
        var (sh, sw) = stride is null || stride.Length == 0 ? (kh, kw) : Pair(op, nameof(stride), stride);
        var (ph, pw) = padding is null ? (0, 0) : Pair(op, nameof(padding), padding);
        CheckPoolArguments(op, kh, kw, sh, sw, ph, pw, 1, 1, kh / 2, kw / 2, "half the kernel size");
        int outH = PoolWindows.OutputSize(layout.H, kh, sh, ph, 1, ceilMode);
        int outW = PoolWindows.OutputSize(layout.W, kw, sw, pw, 1, ceilMode);
        CheckPoolOutput(op, x, outH, outW);
        var rows = PoolWindows.Average(layout.H, outH, kh, sh, ph, countIncludePad);
        var cols = PoolWindows.Average(layout.W, outW, kw, sw, pw, countIncludePad);
        return AvgPoolWindows(op, x, layout, rows, cols);
    }

    public static Tensor AvgPool2d(Tensor x, int kernelSize, int? stride = null, int padding = 0, bool ceilMode = false, bool countIncludePad = true)
        => AvgPool2d(x, new[] { kernelSize }, stride is int s ? new[] { s } : null, new[] { padding }, ceilMode, countIncludePad);

    /// <summary>Averages over given windows.</summary>
    internal static unsafe Tensor AvgPoolWindows(string op, Tensor x, SpatialLayout layout, PoolWindows rows, PoolWindows cols)
    {
        var output = layout.New(rows.Length, cols.Length);
        using (var xd = layout.Data(x))
            AvgPooling.Forward(xd.DataPtr, output.DataPtr, layout.Planes, layout.H, layout.W, layout.Channels, rows, cols);
        if (!Autograd.ShouldRecord(x)) return output;
        return Autograd.Record(output, op + "Backward", new[] { x }, g =>
        {
            var gx = layout.New(layout.H, layout.W, zero: true);
            using var gd = layout.Data(g);
            AvgPooling.Backward(gd.DataPtr, gx.DataPtr, layout.Planes, layout.H, layout.W, layout.Channels, rows, cols);
            return new[] { gx };
        });
    }
}
