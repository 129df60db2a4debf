namespace CrossDistill.Engine.Kernels;

/// <summary>
/// The definition of a grouped, strided, padded, dilated 2-d convolution and its gradients as
/// plain loops in double precision over NCHW arrays. Slow on purpose: tests check every fast path
/// against it on shapes PyTorch fixtures do not cover.
/// </summary>
internal static class ConvReference
{
    /// <summary>The convolution of <paramref name="x"/> as a contiguous NCHW tensor.</summary>
    public static Tensor Forward(Tensor x, Tensor weight, Tensor? bias, ConvGeometry g)
    {
        var xs = x.ToArray();
        var ws = weight.ToArray();
        var bs = bias?.ToArray();
        var y = new float[g.N * g.Cout * g.OH * g.OW];
        for (int n = 0; n < g.N; n++)
            for (int co = 0; co < g.Cout; co++)
                for (int oh = 0; oh < g.OH; oh++)
                    for (int ow = 0; ow < g.OW; ow++)
                    {
                        double sum = bs is null ? 0 : bs[co];
                        ForEachTap(g, n, co, oh, ow, (xi, wi) => sum += (double)xs[xi] * ws[wi]);
                        y[((n * g.Cout + co) * g.OH + oh) * g.OW + ow] = (float)sum;
                    }
        return Torch.FromArray(y, g.N, g.Cout, g.OH, g.OW);
    }

    /// <summary>Gradients of sum(conv(x)·dy) with respect to x, the weight and the bias, as contiguous tensors.</summary>
    public static (Tensor Input, Tensor Weight, Tensor Bias) Backward(Tensor x, Tensor weight, Tensor dy, ConvGeometry g)
    {
        var xs = x.ToArray();
        var ws = weight.ToArray();
        var gs = dy.ToArray();
        var dx = new double[xs.Length];
        var dw = new double[ws.Length];
        var db = new double[g.Cout];
        for (int n = 0; n < g.N; n++)
            for (int co = 0; co < g.Cout; co++)
                for (int oh = 0; oh < g.OH; oh++)
                    for (int ow = 0; ow < g.OW; ow++)
                    {
                        double grad = gs[((n * g.Cout + co) * g.OH + oh) * g.OW + ow];
                        db[co] += grad;
                        ForEachTap(g, n, co, oh, ow, (xi, wi) =>
                        {
                            dx[xi] += grad * ws[wi];
                            dw[wi] += grad * xs[xi];
                        });
                    }
        return (Torch.FromArray(ToFloats(dx), x.Shape), Torch.FromArray(ToFloats(dw), weight.Shape), Torch.FromArray(ToFloats(db), g.Cout));
    }

    /// <summary>Calls <paramref name="tap"/>(input index, weight index) for every in-bounds tap of output (n, co, oh, ow).</summary>
    private static void ForEachTap(in ConvGeometry g, int n, int co, int oh, int ow, Action<int, int> tap)
    {
        int cig = g.CinPerGroup, grp = co / g.CoutPerGroup;
        for (int ci = 0; ci < cig; ci++)
            for (int kh = 0; kh < g.KH; kh++)
                for (int kw = 0; kw < g.KW; kw++)
                {
                    int ih = oh * g.StrideH - g.PadH + kh * g.DilationH;
                    int iw = ow * g.StrideW - g.PadW + kw * g.DilationW;
                    if (ih < 0 || ih >= g.H || iw < 0 || iw >= g.W) continue;
                    int c = grp * cig + ci;
                    tap(((n * g.Cin + c) * g.H + ih) * g.W + iw, ((co * cig + ci) * g.KH + kh) * g.KW + kw);
                }
    }

    private static float[] ToFloats(double[] values) => values.Select(v => (float)v).ToArray();
}
