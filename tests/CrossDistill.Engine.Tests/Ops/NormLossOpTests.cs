using CrossDistill.Engine.Kernels;
using CrossDistill.Engine.Tests.Determinism;
using CrossDistill.TestSupport;

namespace CrossDistill.Engine.Tests.Ops;

// One test switches Workers.Threads, which would change the pieces of every kernel running in parallel.
[Collection(SerialCollection.Name)]
public class NormLossOpTests
{
    private const string File = "normloss";

    private static readonly Dictionary<string, OpUnderTest> Ops = new()
    {
        ["batch_norm"] = (c, x) =>
        {
            bool affine = c.Bool("affine"), running = c.Bool("running");
            int k = affine ? 3 : 1;
            // Copies: the op updates the running statistics in place, and fixture tensors are shared.
            var rm = running ? x[k].Clone() : null;
            var rv = running ? x[k + 1].Clone() : null;
            var y = F.BatchNorm(x[0], rm, rv, affine ? x[1] : null, affine ? x[2] : null, c.Bool("training"), c.Float("momentum"), c.Float("eps"));
            return running ? new[] { y, rm!, rv! } : new[] { y };
        },
        ["layer_norm"] = (c, x) =>
        {
            bool hasWeight = c.Bool("weight"), hasBias = c.Bool("bias");
            var w = hasWeight ? x[1] : null;
            var b = hasBias ? x[hasWeight ? 2 : 1] : null;
            return new[] { F.LayerNorm(x[0], c.Ints("normalized_shape")!, w, b, c.Float("eps")) };
        },
        ["group_norm"] = (c, x) =>
        {
            bool affine = c.Bool("affine");
            return new[] { F.GroupNorm(x[0], c.Int("groups"), affine ? x[1] : null, affine ? x[2] : null, c.Float("eps")) };
        },
        ["cross_entropy"] = (c, x) => new[]
        {
            F.CrossEntropy(x[0], x[1], c.Float("label_smoothing"), c.Str("reduction")!, c.Int("ignore_index"), c.Bool("weight") ? x[2] : null),
        },
        ["nll_loss"] = (c, x) => new[]
        {
            F.NllLoss(x[0], x[1], c.Str("reduction")!, c.Int("ignore_index"), c.Bool("weight") ? x[2] : null),
        },
        ["mse_loss"] = (c, x) => new[] { F.MseLoss(x[0], x[1], c.Str("reduction")!) },
        ["l1_loss"] = (c, x) => new[] { F.L1Loss(x[0], x[1], c.Str("reduction")!) },
        ["smooth_l1_loss"] = (c, x) => new[] { F.SmoothL1Loss(x[0], x[1], c.Str("reduction")!, c.Float("beta", 1f)) },
        ["kl_div"] = (c, x) => new[] { F.KlDiv(x[0], x[1], c.Str("reduction")!, c.Bool("log_target")) },
        ["bce_logits"] = (c, x) =>
        {
            bool hasWeight = c.Bool("weight"), hasPos = c.Bool("pos_weight");
            var w = hasWeight ? x[2] : null;
            var p = hasPos ? x[hasWeight ? 3 : 2] : null;
            return new[] { F.BinaryCrossEntropyWithLogits(x[0], x[1], w, p, c.Str("reduction")!) };
        },
        ["cosine_similarity"] = (c, x) => new[] { F.CosineSimilarity(x[0], x[1], c.Int("dim"), c.Float("eps")) },
    };

    public static IEnumerable<object[]> Cases => OpFixtures.CaseNames(File);

    [Theory]
    [MemberData(nameof(Cases))]
    public void MatchesPyTorch(string name)
    {
        // "offset" cases hold values 40 to 100 standard deviations from zero, against a float64
        // reference: a float32 mean is off by up to half an ulp (4e-6 at 100), up to 8e-6 after
        // normalising and scaling. Statistics from Σx and Σx² in float32 are off by ~1e-3 and fail.
        bool offset = name.Contains("offset");
        OpCaseRunner.Run(File, name, Ops, atol: offset ? 2e-5f : 1e-6f);
    }

    /// <summary>A finite-difference check whose failure names the case.</summary>
    private static void Check(string label, Func<Tensor[], Tensor> f, Tensor[] inputs)
    {
        try { GradCheck.Check(f, inputs); }
        catch (Exception e) when (e is not OutOfMemoryException) { throw new Xunit.Sdk.XunitException($"{label}: {e.Message}"); }
    }

    private static Tensor Randn(Generator g, params int[] shape) => Torch.Randn(shape, g).DetachFromScopes();

    private static Tensor Positive(Generator g, params int[] shape) => Torch.Uniform(shape, 0.5f, 2f, g).DetachFromScopes();

    [Fact]
    public void NormalisationGradientsAgreeWithFiniteDifferences()
    {
        var g = new Generator(11);
        var x = Randn(g, 3, 4, 3, 2);
        var w = Positive(g, 4);
        var b = Randn(g, 4);
        Check("BatchNorm train NCHW", t => F.BatchNorm(t[0], null, null, t[1], t[2], training: true), new[] { x, w, b });
        // GradCheck perturbs inputs in storage order and reads gradients in logical order, so the
        // channels-last copy is made inside the function.
        Check("BatchNorm train channels-last", t => F.BatchNorm(t[0].ContiguousChannelsLast(), null, null, t[1], t[2], training: true), new[] { x, w, b });
        var rm = Randn(g, 4);
        var rv = Positive(g, 4);
        Check("BatchNorm eval", t => F.BatchNorm(t[0], rm, rv, t[1], t[2], training: false), new[] { x, w, b });
        Check("BatchNorm (N, C) no affine", t => F.BatchNorm(t[0], null, null, null, null, training: true), new[] { Randn(g, 5, 3) });

        Check("LayerNorm two dims", t => F.LayerNorm(t[0], new[] { 2, 5 }, t[1], t[2]), new[] { Randn(g, 3, 2, 5), Positive(g, 2, 5), Randn(g, 2, 5) });
        Check("LayerNorm no affine", t => F.LayerNorm(t[0], new[] { 6 }), new[] { Randn(g, 4, 6) });

        Check("GroupNorm NCHW", t => F.GroupNorm(t[0], 2, t[1], t[2]), new[] { Randn(g, 2, 4, 3, 2), Positive(g, 4), Randn(g, 4) });
        Check("GroupNorm channels-last", t => F.GroupNorm(t[0].ContiguousChannelsLast(), 3, t[1], t[2]), new[] { Randn(g, 2, 6, 2, 3), Positive(g, 6), Randn(g, 6) });
    }

    [Fact]
    public void LossGradientsAgreeWithFiniteDifferences()
    {
        var g = new Generator(12);
        var index = Torch.FromArray(new long[] { 2, 0, -100, 4, 1 }, 5).DetachFromScopes();
        var classWeight = Positive(g, 5);
        Check("CrossEntropy smoothing weight ignore", t => F.CrossEntropy(t[0], index, 0.1f, "mean", -100, classWeight), new[] { Randn(g, 5, 5) });
        Check("CrossEntropy none", t => F.CrossEntropy(t[0], index, 0f, "none"), new[] { Randn(g, 5, 5) });
        var spatialIndex = Torch.RandInt(0, 3, new[] { 2, 4, 5 }, g).DetachFromScopes();
        Check("CrossEntropy NCHW sum", t => F.CrossEntropy(t[0], spatialIndex, 0.2f, "sum"), new[] { Randn(g, 2, 3, 4, 5) });
        using (var probs = Torch.Exp(Randn(g, 4, 6)))
        {
            var soft = (probs / probs.Sum(1, keepDim: true)).DetachFromScopes();
            var softWeight = Positive(g, 6);
            Check("CrossEntropy soft targets", t => F.CrossEntropy(t[0], t[1], 0.1f, "mean", -100, softWeight), new[] { Randn(g, 4, 6), soft });
        }
        Check("NllLoss weight ignore", t => F.NllLoss(t[0], index, "mean", -100, classWeight), new[] { Randn(g, 5, 5) });

        Check("MseLoss broadcast", t => F.MseLoss(t[0], t[1], "none"), new[] { Randn(g, 3, 4), Randn(g, 4) });
        Check("L1Loss", t => F.L1Loss(t[0], t[1], "sum"), new[] { Randn(g, 3, 4), Randn(g, 3, 4) });
        Check("SmoothL1Loss", t => F.SmoothL1Loss(t[0], t[1], "mean", 0.8f), new[] { Randn(g, 3, 4), Randn(g, 3, 4) });
        // Targets well away from 0, where the finite differences would step outside the domain of log.
        Check("KlDiv batchmean", t => F.KlDiv(t[0], t[1], "batchmean"), new[] { Randn(g, 3, 5), Positive(g, 3, 5) });
        Check("KlDiv log target", t => F.KlDiv(t[0], t[1], "none", logTarget: true), new[] { Randn(g, 3, 5), Randn(g, 3, 5) });
        var probTarget = Torch.Rand(new[] { 3, 4 }, g).DetachFromScopes();
        var bceWeight = Positive(g, 3, 4);
        var posWeight = Positive(g, 4);
        Check("BCE weights", t => F.BinaryCrossEntropyWithLogits(t[0], t[1], bceWeight, posWeight), new[] { Randn(g, 3, 4), probTarget });
        Check("BCE none", t => F.BinaryCrossEntropyWithLogits(t[0], t[1], null, null, "none"), new[] { Randn(g, 3, 4), probTarget });

        Check("CosineSimilarity rows", t => F.CosineSimilarity(t[0], t[1]), new[] { Randn(g, 3, 5), Randn(g, 3, 5) });
        Check("CosineSimilarity NCHW broadcast", t => F.CosineSimilarity(t[0], t[1], dim: 1), new[] { Randn(g, 2, 3, 4, 5), Randn(g, 1, 3, 4, 5) });
    }

    /// <summary>A reference batch norm in double: per-channel mean and biased variance over every other dim.</summary>
    private static float[] ReferenceBatchNorm(Tensor x, float eps)
    {
        var v = x.ToArray();
        int n = x.Shape[0], c = x.Shape[1], inner = x.Numel / (n * c);
        var y = new float[v.Length];
        for (int j = 0; j < c; j++)
        {
            double sum = 0, sq = 0;
            for (int s = 0; s < n; s++)
                for (int i = 0; i < inner; i++) sum += v[(s * c + j) * inner + i];
            double mean = sum / (n * inner);
            for (int s = 0; s < n; s++)
                for (int i = 0; i < inner; i++) sq += Math.Pow(v[(s * c + j) * inner + i] - mean, 2);
            double rstd = 1 / Math.Sqrt(sq / (n * inner) + eps);
            for (int s = 0; s < n; s++)
                for (int i = 0; i < inner; i++) y[(s * c + j) * inner + i] = (float)((v[(s * c + j) * inner + i] - mean) * rstd);
        }
        return y;
    }

    [Fact]
    public void BatchNormOnLargeInputsMatchesADoubleReferenceInBothLayouts()
    {
        using var scope = DisposeScope.Enter();
        var g = new Generator(5);
        // Enough rows for several reduction chunks, and channels that are not a multiple of 16.
        var x = Torch.Normal(new[] { 8, 37, 12, 12 }, 3f, 2f, g);
        var expected = ReferenceBatchNorm(x, 1e-5f);
        var nchw = F.BatchNorm(x, null, null, null, null, training: true);
        var cl = F.BatchNorm(x.ContiguousChannelsLast(), null, null, null, null, training: true);
        Assert.True(nchw.IsContiguous);
        Assert.True(cl.IsChannelsLast);
        TensorAssert.Close(expected, nchw, 1e-4f, 1e-4f, "NCHW");
        TensorAssert.Close(expected, cl, 1e-4f, 1e-4f, "channels-last");
        var x2 = Torch.Normal(new[] { 3000, 40 }, -1f, 0.5f, g);
        TensorAssert.Close(ReferenceBatchNorm(x2, 1e-5f), F.BatchNorm(x2, null, null, null, null, training: true), 1e-4f, 1e-4f, "(N, C)");
    }

    [Fact]
    public void GroupNormAgreesAcrossLayoutsOnLargeInputs()
    {
        using var scope = DisposeScope.Enter();
        var g = new Generator(9);
        // Enough positions per sample for several channels-last chunks.
        var x = Torch.Normal(new[] { 2, 32, 32, 32 }, 2f, 3f, g);
        var w = Positive(g, 32).RequiresGrad_();
        var b = Randn(g, 32).RequiresGrad_();
        var up = Torch.Randn(new[] { 2, 32, 32, 32 }, g);
        Tensor[] Run(Tensor input)
        {
            var leaf = input.Detach().RequiresGrad_();
            var y = F.GroupNorm(leaf, 4, w, b);
            (y * up).Sum().Backward();
            var result = new[] { y, leaf.Grad!, w.Grad!, b.Grad! };
            w.Grad = null;
            b.Grad = null;
            return result;
        }
        var nchw = Run(x);
        var cl = Run(x.ContiguousChannelsLast());
        Assert.True(cl[0].IsChannelsLast && cl[1].IsChannelsLast);
        string[] what = { "output", "input gradient", "weight gradient", "bias gradient" };
        for (int i = 0; i < 4; i++) TensorAssert.Close(nchw[i], cl[i], 1e-4f, 1e-4f, what[i]);
    }

    [Fact]
    public void LayerNormParameterGradientsAddUpOverRowChunks()
    {
        using var scope = DisposeScope.Enter();
        var g = new Generator(10);
        var x = Torch.Randn(new[] { 600, 96 }, g);
        var up = Torch.Randn(new[] { 600, 96 }, g);
        var w = Positive(g, 96).RequiresGrad_();
        var b = Randn(g, 96).RequiresGrad_();
        // The whole batch is reduced in several chunks; slices of 50 rows each fit in one.
        (F.LayerNorm(x, new[] { 96 }, w, b) * up).Sum().Backward();
        var (dw, db) = (w.Grad!, b.Grad!);
        w.Grad = null;
        b.Grad = null;
        var sumW = Torch.Zeros(96);
        var sumB = Torch.Zeros(96);
        for (int r = 0; r < 600; r += 50)
        {
            (F.LayerNorm(x.Narrow(0, r, 50), new[] { 96 }, w, b) * up.Narrow(0, r, 50)).Sum().Backward();
            sumW.AddInPlace(w.Grad!);
            sumB.AddInPlace(b.Grad!);
            w.Grad = null;
            b.Grad = null;
        }
        TensorAssert.Close(sumW, dw, 1e-4f, 1e-4f, "weight gradient");
        TensorAssert.Close(sumB, db, 1e-4f, 1e-4f, "bias gradient");
    }

    [Fact]
    public void ResultsDoNotDependOnTheThreadCount()
    {
        using var scope = DisposeScope.Enter();
        var g = new Generator(6);
        var x = Torch.Randn(new[] { 8, 24, 16, 16 }, g).ContiguousChannelsLast();
        var xc = x.Contiguous();
        var w = Positive(g, 24).RequiresGrad_();
        var b = Randn(g, 24).RequiresGrad_();
        var up = Torch.Randn(new[] { 8, 24, 16, 16 }, g);
        var tokens = Torch.Randn(new[] { 512, 96 }, g);
        var lnw = Positive(g, 96).RequiresGrad_();
        var lnb = Randn(g, 96).RequiresGrad_();
        var lnUp = Torch.Randn(new[] { 512, 96 }, g);
        var logits = Torch.Randn(new[] { 64, 1000 }, g);
        var labels = Torch.RandInt(0, 1000, new[] { 64 }, g);

        float[][] Run()
        {
            var results = new List<float[]>();
            foreach (var input in new[] { x, xc })
            {
                var leaf = input.Detach().RequiresGrad_();
                var y = F.BatchNorm(leaf, null, null, w, b, training: true);
                (y * up).Sum().Backward();
                results.Add(y.ToArray());
                results.Add(leaf.Grad!.ToArray());
                var gy = F.GroupNorm(leaf, 6, w, b);
                results.Add(gy.ToArray());
                results.Add(w.Grad!.ToArray());
                results.Add(b.Grad!.ToArray());
                w.Grad = null;
                b.Grad = null;
            }
            var t = tokens.Detach().RequiresGrad_();
            var ln = F.LayerNorm(t, new[] { 96 }, lnw, lnb);
            (ln * lnUp).Sum().Backward();
            results.Add(ln.ToArray());
            results.Add(t.Grad!.ToArray());
            results.Add(lnw.Grad!.ToArray());
            results.Add(lnb.Grad!.ToArray());
            lnw.Grad = null;
            lnb.Grad = null;
            var l = logits.Detach().RequiresGrad_();
            var loss = F.CrossEntropy(l, labels, 0.1f);
            loss.Backward();
            results.Add(new[] { loss.Item() });
            results.Add(l.Grad!.ToArray());
            results.Add(new[] { F.MseLoss(x, xc * 0.5f).Item() });
            return results.ToArray();
        }

        int threads = Workers.Threads;
        float[][] single, many;
        try
        {
            Workers.Threads = 1;
            single = Run();
            Workers.Threads = Math.Max(2, threads);
            many = Run();
        }
        finally { Workers.Threads = threads; }
        for (int i = 0; i < single.Length; i++) Assert.Equal(single[i], many[i]);
    }

    [Fact]
    public void BatchNormUpdatesRunningStatisticsOnlyInTraining()
    {
        using var scope = DisposeScope.Enter();
        var x = Torch.FromArray(new float[] { 1, 2, 3, 4, 5, 6 }, 3, 2);
        var rm = Torch.Zeros(2);
        var rv = Torch.Ones(2);
        F.BatchNorm(x, rm, rv, null, null, training: true, momentum: 0.5f);
        // column means 3 and 4, unbiased variances 4 and 4
        TensorAssert.Close(new float[] { 1.5f, 2f }, rm);
        TensorAssert.Close(new float[] { 2.5f, 2.5f }, rv);
        var y = F.BatchNorm(x, rm, rv, null, null, training: false);
        TensorAssert.Close(new float[] { 1.5f, 2f }, rm);
        TensorAssert.Close(new float[] { 2.5f, 2.5f }, rv);
        TensorAssert.Close(new[] { (1 - 1.5f) / MathF.Sqrt(2.5f + 1e-5f) }, y.Narrow(0, 0, 1).Narrow(1, 0, 1).Reshape(1));
    }

    [Fact]
    public void ChannelsLastStaysChannelsLast()
    {
        using var scope = DisposeScope.Enter();
        var g = new Generator(8);
        var x = Torch.Randn(new[] { 2, 8, 3, 3 }, g).ContiguousChannelsLast().RequiresGrad_();
        var bn = F.BatchNorm(x, null, null, null, null, training: true);
        var gn = F.GroupNorm(x, 4);
        Assert.True(bn.IsChannelsLast && !bn.IsContiguous);
        Assert.True(gn.IsChannelsLast && !gn.IsContiguous);
        (bn.Sum() + (gn * gn).Sum()).Backward();
        Assert.True(x.Grad!.IsChannelsLast);
    }

    [Fact]
    public void BadArgumentsThrowArgumentExceptions()
    {
        using var scope = DisposeScope.Enter();
        var x = Torch.Zeros(4, 3);
        var ex = Assert.Throws<ArgumentException>(() => F.BatchNorm(x, null, null, null, null, training: false));
        Assert.Contains("BatchNorm", ex.Message);
        Assert.Throws<ArgumentException>(() => F.BatchNorm(Torch.Zeros(1, 3), null, null, null, null, training: true));
        ex = Assert.Throws<ArgumentException>(() => F.BatchNorm(x, null, null, Torch.Ones(4), null, training: true));
        Assert.Contains("[3]", ex.Message);
        Assert.Throws<ArgumentException>(() => F.LayerNorm(x, new[] { 4 }));
        Assert.Throws<ArgumentException>(() => F.GroupNorm(x, 2));
        var labels = Torch.FromArray(new long[] { 0, 3, 1, 2 }, 4);
        ex = Assert.Throws<ArgumentException>(() => F.CrossEntropy(x, labels));
        Assert.Contains("out of range", ex.Message);
        Assert.Throws<ArgumentException>(() => F.CrossEntropy(x, Torch.FromArray(new long[] { 0, 1 }, 2)));
        Assert.Throws<ArgumentException>(() => F.CrossEntropy(x, Torch.Zeros(4, 3), ignoreIndex: 1));
        Assert.Throws<ArgumentException>(() => F.CrossEntropy(x, labels, reduction: "avg"));
        Assert.Throws<ArgumentException>(() => F.NllLoss(x, Torch.FromArray(new long[] { 0, 1, 2, -1 }, 4)));
        Assert.Throws<ArgumentException>(() => F.MseLoss(x, Torch.Zeros(2, 3)));
        Assert.Throws<ArgumentException>(() => F.KlDiv(x, x, "batchsum"));
        Assert.Throws<ArgumentException>(() => F.BinaryCrossEntropyWithLogits(x, Torch.Zeros(4, 1)));
        Assert.Throws<ArgumentException>(() => F.CosineSimilarity(x, x, dim: 2));
        Assert.Throws<ArgumentException>(() => F.CrossEntropy(x, labels.Narrow(0, 0, 4), weight: Torch.Ones(3).RequiresGrad_()));
    }

    [Fact]
    public void FullyIgnoredBatchGivesNaNAsInPyTorch()
    {
        using var scope = DisposeScope.Enter();
        var x = Torch.Randn(new[] { 3, 4 }, new Generator(1));
        var ignored = Torch.FromArray(new long[] { -100, -100, -100 }, 3);
        Assert.True(float.IsNaN(F.CrossEntropy(x, ignored).Item()));
        Assert.True(float.IsNaN(F.NllLoss(x, ignored).Item()));
        Assert.Equal(0f, F.CrossEntropy(x, ignored, reduction: "sum").Item());
    }

    [Fact]
    public void SavedTensorsAreReleasedWithTheScope()
    {
        var g = new Generator(2);
        using var outer = DisposeScope.Enter();
        var x = Torch.Randn(new[] { 4, 8, 5, 5 }, g).RequiresGrad_();
        var w = Positive(g, 8).RequiresGrad_();
        var labels = Torch.RandInt(0, 8, new[] { 4, 5, 5 }, g);
        void Step()
        {
            using var step = DisposeScope.Enter();
            var h = F.GroupNorm(F.BatchNorm(x, null, null, w, null, training: true), 2, w);
            var loss = F.CrossEntropy(h, labels, 0.1f) + F.MseLoss(h, x) + F.CosineSimilarity(h, x).Mean();
            loss.Backward();
        }
        Step();
        int before = outer.Count;
        Step();
        Step();
        Assert.Equal(before, outer.Count);
        x.Grad?.Dispose();
        w.Grad?.Dispose();
    }
}
