using CrossDistill.Engine.Kernels;

namespace CrossDistill.Engine;

public static unsafe partial class F
{
    /// <summary>
    /// torch.nn.functional.group_norm: x of shape (N, C, *) is normalised over each group of
    /// C / <paramref name="numGroups"/> channels and all spatial positions, then scaled and shifted
    /// per channel. NCHW-contiguous and channels-last inputs are used as they are and the output
    /// keeps their layout; other layouts are copied to NCHW first.
    /// </summary>
    public static Tensor GroupNorm(Tensor x, int numGroups, Tensor? weight = null, Tensor? bias = null, float eps = 1e-5f)
    {
        if (x.DType != DType.Float32) throw new ArgumentException($"GroupNorm: x must be float32, got {x.DType}.", nameof(x));
        if (x.Rank < 2) throw new ArgumentException($"GroupNorm: x must be (N, C, *), got shape {ShapeUtil.Format(x.Shape)}.", nameof(x));
        int n = x.Shape[0], c = x.Shape[1];
        if (numGroups <= 0 || c % numGroups != 0)
            throw new ArgumentException($"GroupNorm: numGroups = {numGroups} must be positive and divide the {c} channels of input {ShapeUtil.Format(x.Shape)}.", nameof(numGroups));
        CheckChannelVector("GroupNorm", nameof(weight), weight, c, x);
        CheckChannelVector("GroupNorm", nameof(bias), bias, c, x);

        var work = ChannelLayout.Prepare(x, out var layout, out bool copied);
        int groups = numGroups, cg = c / groups;
        // saved: mean and 1/std per (sample, group); scratch: mean, scale and bias per (sample, channel)
        var saved = Tensor.Empty(new[] { 2, n * groups });
        using var scratch = Tensor.Empty(new[] { 3, n * c });
        float* mean = saved.DataPtr, invStd = mean + n * groups;
        float* meanPerChannel = scratch.DataPtr, scale = meanPerChannel + n * c, beta = scale + n * c;
        bool empty = x.Numel == 0;
        if (!empty) GroupNormKernel.Statistics(work.DataPtr, layout, groups, eps, mean, invStd);
        float* w = weight is null ? null : weight.DataPtr;
        float* b = bias is null ? null : bias.DataPtr;
        int ws = weight?.Strides[0] ?? 0, bs = bias?.Strides[0] ?? 0;
        if (!empty)
            for (int s = 0; s < n; s++)
                for (int j = 0; j < c; j++)
                {
                    int k = s * groups + j / cg;
                    float sc = invStd[k] * (w is null ? 1f : w[(long)j * ws]);
                    meanPerChannel[s * c + j] = mean[k];
                    scale[s * c + j] = sc;
                    beta[s * c + j] = b is null ? 0f : b[(long)j * bs];
                }

        var y = Tensor.Empty((int[])x.Shape.Clone(), Tensor.DenseStridesOf(work));
        if (!empty) ChannelNormKernel.Normalize(work.DataPtr, y.DataPtr, layout, meanPerChannel, scale, beta, perSample: true);

        var inputs = new List<Tensor> { x };
        if (weight is not null) inputs.Add(weight);
        if (bias is not null) inputs.Add(bias);
        if (!Autograd.ShouldRecord(inputs.ToArray()))
        {
            saved.Dispose();
            if (copied) work.Dispose();
            return y;
        }
        return Autograd.Record(y, "NativeGroupNormBackward", inputs.ToArray(),
            g => GroupNormBackward(g, x, work, layout, groups, saved, weight, bias));
    }

    private static Tensor?[] GroupNormBackward(Tensor g, Tensor x, Tensor work, ChannelLayout layout, int groups, Tensor saved, Tensor? weight, Tensor? bias)
    {
        int n = layout.N, c = layout.C, cg = c / groups;
        bool needX = x.RequiresGrad, needW = weight?.RequiresGrad == true, needB = bias?.RequiresGrad == true;
        var dy = OperandLayout.MatchLayout(g, work, out bool dyCopied);
        int nc = n * c;
        using var scratch = Tensor.Empty(new[] { 6, nc });
        float* mean = saved.DataPtr, invStd = mean + n * groups;
        float* meanPerChannel = scratch.DataPtr, sumDy = meanPerChannel + nc, sumDyXmu = sumDy + nc;
        float* a = sumDyXmu + nc, b = a + nc, k = b + nc;
        float* w = weight is null ? null : weight.DataPtr;
        int ws = weight?.Strides[0] ?? 0;
        for (int s = 0; s < n; s++)
            for (int j = 0; j < c; j++) meanPerChannel[s * c + j] = mean[s * groups + j / cg];
        bool empty = work.Numel == 0;
        if (!empty) GroupNormKernel.GradSums(work.DataPtr, dy.DataPtr, layout, meanPerChannel, sumDy, sumDyXmu);
        else new Span<float>(sumDy, 2 * nc).Clear();

        Tensor? dx = null, dw = null, db = null;
        if (needX)
        {
            float count = (float)cg * layout.Inner;
            for (int s = 0; s < n; s++)
                for (int grp = 0; grp < groups; grp++)
                {
                    // With dyw = dy·w: dx = r·(dyw − Σdyw/D − x̂·Σ(dyw·x̂)/D), x̂ = (x − mean)·r.
                    float sumDyw = 0f, sumDywXmu = 0f;
                    for (int j = grp * cg; j < (grp + 1) * cg; j++)
                    {
                        float wj = w is null ? 1f : w[(long)j * ws];
                        sumDyw += wj * sumDy[s * c + j];
                        sumDywXmu += wj * sumDyXmu[s * c + j];
                    }
                    float r = invStd[s * groups + grp];
                    float bb = -r * r * r * sumDywXmu / count, kk = -r * sumDyw / count;
                    for (int j = grp * cg; j < (grp + 1) * cg; j++)
                    {
                        a[s * c + j] = r * (w is null ? 1f : w[(long)j * ws]);
                        b[s * c + j] = bb;
                        k[s * c + j] = kk;
                    }
                }
            dx = Tensor.Empty((int[])work.Shape.Clone(), Tensor.DenseStridesOf(work));
            if (!empty) ChannelNormKernel.InputGrad(work.DataPtr, dy.DataPtr, dx.DataPtr, layout, meanPerChannel, a, b, k, perSample: true);
        }
        if (needW)
        {
            dw = Tensor.Empty((int[])weight!.Shape.Clone());
            float* p = dw.DataPtr;
            for (int j = 0; j < c; j++)
            {
                float acc = 0f;
                for (int s = 0; s < n; s++) acc += invStd[s * groups + j / cg] * sumDyXmu[s * c + j];
                p[j] = acc;
            }
        }
        if (needB)
        {
            db = Tensor.Empty((int[])bias!.Shape.Clone());
            float* p = db.DataPtr;
            for (int j = 0; j < c; j++)
            {
                float acc = 0f;
                for (int s = 0; s < n; s++) acc += sumDy[s * c + j];
                p[j] = acc;
            }
        }
        if (dyCopied) dy.Dispose();
        var grads = new List<Tensor?> { dx };
        if (weight is not null) grads.Add(dw);
        if (bias is not null) grads.Add(db);
        return grads.ToArray();
    }
}
