using CrossDistill.Engine.Kernels;

namespace CrossDistill.Engine;

public static partial class F
{
    /// <summary>
    /// 2-d max pooling of an (N, C, H, W) or (C, H, W) tensor (F.max_pool2d). One value in an array
    /// applies to both axes; <paramref name="stride"/> defaults to the kernel size. The gradient goes
    /// to the first maximum of each window. Channels-last in, channels-last out.
    /// </summary>
    public static unsafe Tensor MaxPool2d(Tensor x, int[] kernelSize, int[]? stride = null, int[]? padding = null, int[]? dilation = null, bool ceilMode = false)
    {
        const string op = "MaxPool2d";
        var layout = SpatialLayout.Of(op, x, allowUnbatched: true);
        var (kh, kw) = Pair(op, nameof(kernelSize), kernelSize);
        var (sh, sw) = stride is null || stride.Length == 0 ? (kh, kw) : Pair(op, nameof(stride), stride);
        var (ph, pw) = padding is null ? (0, 0) : Pair(op, nameof(padding), padding);
        var (dh, dw) = dilation is null ? (1, 1) : Pair(op, nameof(dilation), dilation);
        CheckPoolArguments(op, kh, kw, sh, sw, ph, pw, dh, dw, kh / 2, kw / 2, "half the kernel size");
        int outH = PoolWindows.OutputSize(layout.H, kh, sh, ph, dh, ceilMode);
        int outW = PoolWindows.OutputSize(layout.W, kw, sw, pw, dw, ceilMode);
        CheckPoolOutput(op, x, outH, outW);
        var rows = PoolWindows.Max(layout.H, outH, kh, sh, ph, dh);
        var cols = PoolWindows.Max(layout.W, outW, kw, sw, pw, dw);
        return MaxPoolWindows(op, x, layout, rows, cols);
    }

    public static Tensor MaxPool2d(Tensor x, int kernelSize, int? stride = null, int padding = 0, int dilation = 1, bool ceilMode = false)
        => MaxPool2d(x, new[] { kernelSize }, stride is int s ? new[] { s } : null, new[] { padding }, new[] { dilation }, ceilMode);

    /// <summary>Max over given windows, saving the argmax positions when a backward will run.</summary>
    internal static unsafe Tensor MaxPoolWindows(string op, Tensor x, SpatialLayout layout, PoolWindows rows, PoolWindows cols)
    {
        var output = layout.New(rows.Length, cols.Length);
        bool record = Autograd.ShouldRecord(x);
        // The argmax positions are int32s kept in a float tensor's storage: pooled, scope-tracked
        // memory of the output's size, never read as floats.
        var argmax = record ? layout.New(rows.Length, cols.Length) : null;
        using (var xd = layout.Data(x))
            MaxPooling.Forward(xd.DataPtr, output.DataPtr, argmax is null ? null : (int*)argmax.DataPtr, layout.Planes, layout.H, layout.W, layout.Channels, rows, cols);
        if (!record) return output;
        return Autograd.Record(output, op + "Backward", new[] { x }, g =>
        {
            var gx = layout.New(layout.H, layout.W, zero: true);
            using var gd = layout.Data(g);
            MaxPooling.Backward(gd.DataPtr, (int*)argmax!.DataPtr, gx.DataPtr, layout.Planes, layout.H, layout.W, layout.Channels, rows.Length, cols.Length);
            return new[] { gx };
        });
    }

    private static void CheckPoolArguments(string op, int kh, int kw, int sh, int sw, int ph, int pw, int dh, int dw, int maxPadH, int maxPadW, string padRule)
    {
        if (kh <= 0 || kw <= 0) throw new ArgumentException($"{op}: kernel size ({kh}, {kw}) must be positive.", "kernelSize");
        if (sh <= 0 || sw <= 0) throw new ArgumentException($"{op}: stride ({sh}, {sw}) must be positive.", "stride");
        if (dh <= 0 || dw <= 0) throw new ArgumentException($"{op}: dilation ({dh}, {dw}) must be positive.", "dilation");
        if (ph < 0 || pw < 0 || ph > maxPadH || pw > maxPadW)
            throw new ArgumentException($"{op}: padding ({ph}, {pw}) must be between 0 and {padRule} ({maxPadH}, {maxPadW}).", "padding");
    }

    private static void CheckPoolOutput(string op, Tensor x, int outH, int outW)
    {
        if (outH < 1 || outW < 1)
            throw new ArgumentException($"{op}: input of shape {ShapeUtil.Format(x.Shape)} is too small for the window: the output would be {outH}×{outW}.", nameof(x));
    }
}
