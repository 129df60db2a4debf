using CrossDistill.Engine.Kernels;

namespace CrossDistill.Engine;

public static partial class F
{
    /// <summary>
    /// Averages an (N, C, H, W) or (C, H, W) tensor over outH × outW bins, bin i of an axis of size n
    /// covering [floor(i·n/out), ceil((i+1)·n/out)) (F.adaptive_avg_pool2d). Channels-last in,
    /// channels-last out.
    /// </summary>
    public static Tensor AdaptiveAvgPool2d(Tensor x, int outH, int outW)
    {
        const string op = "AdaptiveAvgPool2d";
        var layout = SpatialLayout.Of(op, x, allowUnbatched: true);
        CheckAdaptive(op, x, layout, outH, outW);
        return AvgPoolWindows(op, x, layout, PoolWindows.Adaptive(layout.H, outH), PoolWindows.Adaptive(layout.W, outW));
    }

    public static Tensor AdaptiveAvgPool2d(Tensor x, int outSize) => AdaptiveAvgPool2d(x, outSize, outSize);

    private static void CheckAdaptive(string op, Tensor x, SpatialLayout layout, int outH, int outW)
    {
        if (outH < 1 || outW < 1) throw new ArgumentException($"{op}: output size ({outH}, {outW}) must be positive.");
        if (layout.H == 0 || layout.W == 0)
            throw new ArgumentException($"{op}: cannot pool an empty image of shape {ShapeUtil.Format(x.Shape)}.", nameof(x));
    }
}
