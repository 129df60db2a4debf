using CrossDistill.Engine.Kernels;

namespace CrossDistill.Engine;

public static partial class F
{
    /// <summary>
    /// Max over outH × outW bins of an (N, C, H, W) or (C, H, W) tensor, bins as in
    /// <see cref="AdaptiveAvgPool2d(Tensor, int, int)"/> (F.adaptive_max_pool2d). The gradient goes
    /// to the first maximum of each bin. Channels-last in, channels-last out.
    /// </summary>
    public static Tensor AdaptiveMaxPool2d(Tensor x, int outH, int outW)
    {
        const string op = "AdaptiveMaxPool2d";
        var layout = SpatialLayout.Of(op, x, allowUnbatched: true);
        CheckAdaptive(op, x, layout, outH, outW);
        return MaxPoolWindows(op, x, layout, PoolWindows.Adaptive(layout.H, outH), PoolWindows.Adaptive(layout.W, outW));
    }

    public static Tensor AdaptiveMaxPool2d(Tensor x, int outSize) => AdaptiveMaxPool2d(x, outSize, outSize);
}
