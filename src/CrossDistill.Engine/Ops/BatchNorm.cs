using CrossDistill.Engine.Kernels;

namespace CrossDistill.Engine;

public static unsafe partial class F
{
    /// <summary>
    /// torch.nn.functional.batch_norm over (N, C), (N, C, L), (N, C, H, W) or more spatial dims.
    /// In training the batch statistics normalise (biased variance) and, when running statistics
    /// are given, they are updated in place and unrecorded with the unbiased variance:
    /// r ← (1 − momentum)·r + momentum·batch. In eval the running statistics normalise.
    /// NCHW-contiguous and channels-last inputs are used as they are and the output keeps their
    /// layout; other layouts are copied to NCHW first.
    /// </summary>
    public static Tensor BatchNorm(Tensor x, Tensor? runningMean, Tensor? runningVar, Tensor? weight, Tensor? bias, bool training,
        float momentum = 0.1f, float eps = 1e-5f)
    {
        if (x.DType != DType.Float32) throw new ArgumentException($"BatchNorm: x must be float32, got {x.DType}.", nameof(x));
        if (x.Rank < 2) throw new ArgumentException($"BatchNorm: x must be (N, C, *), got shape {ShapeUtil.Format(x.Shape)}.", nameof(x));
        int c = x.Shape[1];
        CheckChannelVector("BatchNorm", nameof(runningMean), runningMean, c, x);
        CheckChannelVector("BatchNorm", nameof(runningVar), runningVar, c, x);
        CheckChannelVector("BatchNorm", nameof(weight), weight, c, x);
        CheckChannelVector("BatchNorm", nameof(bias), bias, c, x);
        if (!training && (runningMean is null || runningVar is null))
            throw new ArgumentException("BatchNorm: eval mode needs runningMean and runningVar.", nameof(runningMean));
        if ((runningMean is null) != (runningVar is null))
            throw new ArgumentException("BatchNorm: give both runningMean and runningVar, or neither.", nameof(runningVar));
        long perChannel = c == 0 ? 0 : x.Numel / c;
        if (training && perChannel <= 1)
            throw new ArgumentException($"BatchNorm: expected more than 1 value per channel when training, got input of shape {ShapeUtil.Format(x.Shape)}.", nameof(x));

        var work = ChannelLayout.Prepare(x, out var layout, out bool copied);
        // saved rows: mean, 1/std; scratch rows: variance, scale, bias
        var saved = Tensor.Empty(new[] { 2, c });
        using var scratch = Tensor.Empty(new[] { 3, c });
        float* mean = saved.DataPtr, invStd = mean + c;
        float* variance = scratch.DataPtr, scale = variance + c, beta = scale + c;
        if (training)
        {
            if (x.Numel > 0) BatchNormKernel.Statistics(work.DataPtr, layout, mean, variance);
            if (runningMean is not null && runningVar is not null)
            {
                float* rm = runningMean.DataPtr, rv = runningVar.DataPtr;
                int sm = runningMean.Strides[0], sv = runningVar.Strides[0];
                float unbias = (float)((double)perChannel / (perChannel - 1));
                for (int j = 0; j < c; j++)
                {
                    rm[(long)j * sm] = (1f - momentum) * rm[(long)j * sm] + momentum * mean[j];
                    rv[(long)j * sv] = (1f - momentum) * rv[(long)j * sv] + momentum * variance[j] * unbias;
                }
            }
        }
        else
        {
            float* rm = runningMean!.DataPtr, rv = runningVar!.DataPtr;
            int sm = runningMean.Strides[0], sv = runningVar.Strides[0];
            for (int j = 0; j < c; j++)
            {
                mean[j] = rm[(long)j * sm];
                variance[j] = rv[(long)j * sv];
            }
        }
        float* w = weight is null ? null : weight.DataPtr;
        float* b = bias is null ? null : bias.DataPtr;
        int ws = weight?.Strides[0] ?? 0, bs = bias?.Strides[0] ?? 0;
        for (int j = 0; j < c; j++)
        {
            invStd[j] = 1f / MathF.Sqrt(variance[j] + eps);
            scale[j] = (w is null ? 1f : w[(long)j * ws]) * invStd[j];
            beta[j] = b is null ? 0f : b[(long)j * bs];
        }

        var y = Tensor.Empty((int[])x.Shape.Clone(), Tensor.DenseStridesOf(work));
        if (x.Numel > 0) ChannelNormKernel.Normalize(work.DataPtr, y.DataPtr, layout, mean, scale, beta, perSample: false);

        var inputs = new List<Tensor> { x };
        if (weight is not null) inputs.Add(weight);
        if (bias is not null) inputs.Add(bias);
        if (!Autograd.ShouldRecord(inputs.ToArray()))
        {
            saved.Dispose();
            if (copied) work.Dispose();
            return y;
        }
        return Autograd.Record(y, "NativeBatchNormBackward", inputs.ToArray(),
            g => BatchNormBackward(g, x, work, layout, saved, weight, bias, training, perChannel));
    }

    private static Tensor?[] BatchNormBackward(Tensor g, Tensor x, Tensor work, ChannelLayout layout, Tensor saved, Tensor? weight, Tensor? bias, bool training, long count)
    {
        int c = layout.C;
        bool needX = x.RequiresGrad, needW = weight?.RequiresGrad == true, needB = bias?.RequiresGrad == true;
        var dy = OperandLayout.MatchLayout(g, work, out bool dyCopied);
        using var scratch = Tensor.Empty(new[] { 5, c });
        float* mean = saved.DataPtr, invStd = mean + c;
        float* sumDy = scratch.DataPtr, sumDyXmu = sumDy + c, a = sumDyXmu + c, b = a + c, k = b + c;
        bool empty = work.Numel == 0;
        if ((training || needW || needB) && !empty) BatchNormKernel.GradSums(work.DataPtr, dy.DataPtr, layout, mean, sumDy, sumDyXmu);
        else
        {
            new Span<float>(sumDy, c).Clear();
            new Span<float>(sumDyXmu, c).Clear();
        }

        Tensor? dx = null, dw = null, db = null;
        if (needX)
        {
            float* w = weight is null ? null : weight.DataPtr;
            int ws = weight?.Strides[0] ?? 0;
            for (int j = 0; j < c; j++)
            {
                a[j] = (w is null ? 1f : w[(long)j * ws]) * invStd[j];
                if (training)
                {
                    // dx = (dy − Σdy/M − (x − mean)·Σdy(x − mean)·invstd²/M)·w·invstd
                    float kk = sumDyXmu[j] * invStd[j] * invStd[j] / count;
                    b[j] = -kk * a[j];
                    k[j] = -sumDy[j] / count * a[j];
                }
                else
                {
                    b[j] = 0f;
                    k[j] = 0f;
                }
            }
            dx = Tensor.Empty((int[])work.Shape.Clone(), Tensor.DenseStridesOf(work));
            if (!empty) ChannelNormKernel.InputGrad(work.DataPtr, dy.DataPtr, dx.DataPtr, layout, mean, a, b, k, perSample: false);
        }
        if (needW)
        {
            dw = Tensor.Empty((int[])weight!.Shape.Clone());
            float* p = dw.DataPtr;
            for (int j = 0; j < c; j++) p[j] = sumDyXmu[j] * invStd[j];
        }
        if (needB)
        {
            db = Tensor.Empty((int[])bias!.Shape.Clone());
            new Span<float>(sumDy, c).CopyTo(db.Span);
        }
        if (dyCopied) dy.Dispose();
        var grads = new List<Tensor?> { dx };
        if (weight is not null) grads.Add(dw);
        if (bias is not null) grads.Add(db);
        return grads.ToArray();
    }

    /// <summary>Checks an optional per-channel parameter or statistic: float32 with C elements in one dim.</summary>
    internal static void CheckChannelVector(string op, string name, Tensor? t, int channels, Tensor x)
    {
        if (t is null) return;
        if (t.DType != DType.Float32)
            throw new ArgumentException($"{op}: {name} must be float32, got {t.DType}.", name);
        if (t.Rank != 1 || t.Shape[0] != channels)
            throw new ArgumentException($"{op}: {name} must have shape [{channels}] for input of shape {ShapeUtil.Format(x.Shape)}, got {ShapeUtil.Format(t.Shape)}.", name);
    }
}
