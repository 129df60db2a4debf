using CrossDistill.Engine.Kernels;
using CrossDistill.Engine.Tests.Determinism;
using CrossDistill.TestSupport;

namespace CrossDistill.Engine.Tests.Ops;

// One test switches Workers.Threads, which would change the pieces of every kernel running in parallel.
[Collection(SerialCollection.Name)]
public class ConvOpTests
{
    private const string File = "conv";

    private static readonly Dictionary<string, OpUnderTest> Ops = new()
    {
        ["matmul"] = (c, x) => new[] { Torch.Matmul(x[0], x[1]) },
        ["bmm"] = (c, x) => new[] { x[0].Bmm(x[1]) },
        ["linear"] = (c, x) => new[] { F.Linear(x[0], x[1], c.Bool("bias") ? x[2] : null) },
        ["conv2d"] = (c, x) => new[] { F.Conv2d(x[0], x[1], c.Bool("bias") ? x[2] : null, c.Ints("stride"), c.Ints("padding"), c.Ints("dilation"), c.Int("groups")) },
        ["sdpa"] = (c, x) => new[]
        {
            F.ScaledDotProductAttention(x[0], x[1], x[2], c.Bool("mask") ? x[3] : null, c.Bool("causal"), c.Has("scale") ? c.Float("scale") : null),
        },
    };

    public static IEnumerable<object[]> Cases => OpFixtures.CaseNames(File);

    [Theory]
    [MemberData(nameof(Cases))]
    public void MatchesPyTorch(string name) => OpCaseRunner.Run(File, name, Ops);

    // ---- Convolution: every kernel against the plain reference on awkward shapes ----

    /// <summary>N, Cin, H, W, Cout, KH, KW, stride h/w, padding h/w, dilation h/w, groups.</summary>
    public static IEnumerable<object[]> Geometries => new[]
    {
        new object[] { "3x3", new[] { 2, 3, 7, 9, 5, 3, 3, 1, 1, 1, 1, 1, 1, 1 } },
        new object[] { "cin1_stride2_odd", new[] { 1, 1, 5, 7, 3, 3, 3, 2, 2, 1, 1, 1, 1, 1 } },
        new object[] { "channels17_stride2", new[] { 3, 17, 9, 7, 18, 3, 3, 2, 2, 0, 0, 1, 1, 1 } },
        new object[] { "groups3_dilation2", new[] { 2, 6, 8, 8, 9, 3, 3, 1, 1, 2, 2, 2, 2, 3 } },
        new object[] { "groups2", new[] { 2, 4, 6, 5, 6, 3, 3, 1, 1, 1, 1, 1, 1, 2 } },
        new object[] { "1xN", new[] { 1, 5, 7, 9, 4, 1, 5, 1, 1, 0, 2, 1, 1, 1 } },
        new object[] { "Nx1_stride2x1", new[] { 1, 5, 9, 7, 4, 5, 1, 2, 1, 2, 0, 1, 1, 1 } },
        new object[] { "padding_beyond_kernel", new[] { 1, 3, 11, 11, 8, 3, 3, 2, 2, 3, 3, 1, 1, 1 } },
        new object[] { "even_kernel", new[] { 2, 3, 5, 5, 4, 2, 2, 2, 2, 0, 0, 1, 1, 1 } },
        new object[] { "dilation_w_only", new[] { 2, 4, 6, 9, 3, 3, 3, 1, 1, 1, 2, 1, 2, 1 } },
        new object[] { "depthwise33", new[] { 2, 33, 5, 5, 33, 3, 3, 1, 1, 1, 1, 1, 1, 33 } },
        new object[] { "depthwise40_stride2", new[] { 2, 40, 7, 6, 40, 3, 3, 2, 2, 1, 1, 1, 1, 40 } },
        new object[] { "depthwise19_5x5_dilation2", new[] { 1, 19, 6, 7, 19, 5, 5, 1, 1, 4, 4, 2, 2, 19 } },
        new object[] { "depthwise3_stride3", new[] { 2, 3, 8, 7, 3, 3, 3, 3, 3, 0, 1, 1, 1, 3 } },
        new object[] { "pointwise", new[] { 2, 20, 4, 5, 13, 1, 1, 1, 1, 0, 0, 1, 1, 1 } },
        new object[] { "pointwise_groups4", new[] { 2, 12, 3, 5, 8, 1, 1, 1, 1, 0, 0, 1, 1, 4 } },
        new object[] { "pointwise_batch1_odd", new[] { 1, 3, 3, 1, 7, 1, 1, 1, 1, 0, 0, 1, 1, 1 } },
        new object[] { "depthwise_pointwise", new[] { 1, 17, 3, 4, 17, 1, 1, 1, 1, 0, 0, 1, 1, 17 } },
    };

    private static ConvGeometry Geometry(int[] a) => new(a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], a[10], a[11], a[12], a[13]);

    [Theory]
    [MemberData(nameof(Geometries))]
    public void EveryKernelMatchesTheReference(string name, int[] spec)
    {
        var g = Geometry(spec);
        var gen = new Generator((ulong)name.Length * 977 + (ulong)spec.Sum());
        using var scope = DisposeScope.Enter();
        var x = Torch.Uniform(new[] { g.N, g.Cin, g.H, g.W }, -1f, 1f, gen);
        var w = Torch.Uniform(new[] { g.Cout, g.CinPerGroup, g.KH, g.KW }, -0.5f, 0.5f, gen);
        var b = Torch.Uniform(new[] { g.Cout }, -1f, 1f, gen);
        var dy = Torch.Uniform(new[] { g.N, g.Cout, g.OH, g.OW }, -1f, 1f, gen);
        var expected = ConvReference.Forward(x, w, b, g);
        var (dxRef, dwRef, dbRef) = ConvReference.Backward(x, w, dy, g);

        var algorithms = new List<ConvAlgorithm> { ConvAlgorithm.Im2ColGemm };
        if (g.IsPointwise) algorithms.Add(ConvAlgorithm.Pointwise);
        if (g.IsDepthwise) algorithms.Add(ConvAlgorithm.Depthwise);
        // The default band, and bands of 5 rows that split images and cross image boundaries.
        foreach (int band in new[] { ConvGemm.DefaultBandFloats, g.Columns * 5 })
            foreach (var algorithm in algorithms)
                foreach (bool channelsLastInput in new[] { false, true })
                {
                    string what = $"{name}, {algorithm}, band {band}, {(channelsLastInput ? "channels-last" : "NCHW")} input";
                    var xLeaf = (channelsLastInput ? x.ContiguousChannelsLast() : x.Clone()).RequiresGrad_();
                    var wLeaf = w.Clone().RequiresGrad_();
                    var bLeaf = b.Clone().RequiresGrad_();
                    var y = F.Conv2d(xLeaf, wLeaf, bLeaf, g, algorithm, band);
                    Assert.True(y.IsChannelsLast, $"{what}: output is not channels-last");
                    TensorAssert.Close(expected, y, 1e-4f, 1e-5f, what + ": output");
                    // Downstream ops of a channels-last network hand back channels-last gradients; others do not.
                    using (var upstream = channelsLastInput ? dy.ContiguousChannelsLast() : dy.Clone()) y.Backward(upstream);
                    Assert.True(xLeaf.Grad!.IsChannelsLast, $"{what}: input gradient is not channels-last");
                    TensorAssert.Close(dxRef, xLeaf.Grad!, 1e-4f, 1e-5f, what + ": input gradient");
                    TensorAssert.Close(dwRef, wLeaf.Grad!, 1e-4f, 1e-4f, what + ": weight gradient");
                    TensorAssert.Close(dbRef, bLeaf.Grad!, 1e-4f, 1e-4f, what + ": bias gradient");
                    foreach (var leaf in new[] { xLeaf, wLeaf, bLeaf }) leaf.Grad!.Dispose();
                }
    }

    [Fact]
    public void DepthwiseGradientsDoNotDependOnTheThreadCount()
    {
        var g = new ConvGeometry(3, 48, 9, 10, 48, 3, 3, 1, 1, 1, 1, 1, 1, 48);
        var gen = new Generator(11);
        using var scope = DisposeScope.Enter();
        var x = Torch.Randn(new[] { g.N, g.Cin, g.H, g.W }, gen).ContiguousChannelsLast();
        var w = Torch.Randn(new[] { g.Cout, 1, 3, 3 }, gen);
        var dy = Torch.Randn(new[] { g.N, g.Cout, g.OH, g.OW }, gen).ContiguousChannelsLast();
        float[][] Run()
        {
            var xl = x.Detach().RequiresGrad_();
            var wl = w.Detach().RequiresGrad_();
            F.Conv2d(xl, wl, null, g, ConvAlgorithm.Depthwise, ConvGemm.DefaultBandFloats).Backward(dy);
            return new[] { xl.Grad!.ToArray(), wl.Grad!.ToArray() };
        }
        int threads = Workers.Threads;
        float[][] one, many;
        try
        {
            Workers.Threads = 1;
            one = Run();
            Workers.Threads = Math.Max(2, threads);
            many = Run();
        }
        finally { Workers.Threads = threads; }
        Assert.Equal(one[0], many[0]);
        Assert.Equal(one[1], many[1]);
    }

    [Fact]
    public void ConvolutionGradientsAreRepeatable()
    {
        var gen = new Generator(5);
        using var scope = DisposeScope.Enter();
        var x = Torch.Randn(new[] { 4, 24, 9, 9 }, gen);
        var w = Torch.Randn(new[] { 20, 24, 3, 3 }, gen);
        var dy = Torch.Randn(new[] { 4, 20, 5, 5 }, gen);
        float[][] Run()
        {
            var xl = x.Detach().RequiresGrad_();
            var wl = w.Detach().RequiresGrad_();
            F.Conv2d(xl, wl, null, 2, 1).Backward(dy);
            return new[] { xl.Grad!.ToArray(), wl.Grad!.ToArray() };
        }
        var first = Run();
        for (int i = 0; i < 3; i++)
        {
            var again = Run();
            Assert.Equal(first[0], again[0]);
            Assert.Equal(first[1], again[1]);
        }
    }

    // ---- Finite differences ----

    [Fact]
    public void MatmulAndLinearFiniteDifferences()
    {
        var g = new Generator(21);
        Tensor R(params int[] shape) => Torch.Randn(shape, g).DetachFromScopes();
        GradCheck.Check(x => Torch.Matmul(x[0], x[1]), new[] { R(3, 4), R(4, 5) });
        GradCheck.Check(x => Torch.Matmul(x[0], x[1]), new[] { R(2, 1, 3, 4), R(3, 4, 2) });
        GradCheck.Check(x => Torch.Matmul(x[0], x[1]), new[] { R(4), R(2, 4, 3) });
        GradCheck.Check(x => Torch.Matmul(x[0].Transpose(-1, -2), x[1]), new[] { R(2, 4, 3), R(4) });
        GradCheck.Check(x => Torch.Matmul(x[0], x[1]), new[] { R(5), R(5) });
        GradCheck.Check(x => Torch.Bmm(x[0], x[1].Transpose(1, 2)), new[] { R(2, 3, 4), R(2, 5, 4) });
        GradCheck.Check(x => F.Linear(x[0], x[1], x[2]), new[] { R(2, 3, 4), R(5, 4), R(5) });
        GradCheck.Check(x => F.Linear(x[0].Transpose(0, 1), x[1]), new[] { R(4, 3), R(2, 4) });
    }

    [Fact]
    public void ConvolutionFiniteDifferences()
    {
        var g = new Generator(22);
        Tensor R(params int[] shape) => Torch.Randn(shape, g).DetachFromScopes();
        GradCheck.Check(x => F.Conv2d(x[0], x[1], x[2], 1, 1), new[] { R(2, 3, 5, 4), R(4, 3, 3, 3), R(4) });
        GradCheck.Check(x => F.Conv2d(x[0], x[1], x[2], new[] { 2, 1 }, new[] { 1, 0 }, new[] { 1, 2 }, groups: 2), new[] { R(1, 4, 6, 7), R(6, 2, 3, 2), R(6) });
        GradCheck.Check(x => F.Conv2d(x[0], x[1], x[2], 2, 1, groups: 5), new[] { R(2, 5, 6, 5), R(5, 1, 3, 3), R(5) });
        GradCheck.Check(x => F.Conv2d(x[0], x[1]), new[] { R(2, 6, 3, 4), R(3, 6, 1, 1) });
        GradCheck.Check(x => F.Conv2d(x[0].ContiguousChannelsLast(), x[1], null, 1, 2, 2), new[] { R(1, 2, 5, 5), R(3, 2, 3, 3) });
    }

    [Fact]
    public void AttentionFiniteDifferences()
    {
        var g = new Generator(23);
        Tensor R(params int[] shape) => Torch.Randn(shape, g).DetachFromScopes();
        GradCheck.Check(x => F.ScaledDotProductAttention(x[0], x[1], x[2]), new[] { R(2, 3, 4), R(2, 5, 4), R(2, 5, 3) });
        GradCheck.Check(x => F.ScaledDotProductAttention(x[0], x[1], x[2], x[3]), new[] { R(2, 3, 4), R(2, 5, 4), R(2, 5, 3), R(3, 5) });
        GradCheck.Check(x => F.ScaledDotProductAttention(x[0], x[1].Transpose(-1, -2), x[2], isCausal: true, scale: 0.7f),
            new[] { R(1, 2, 4, 3), R(1, 2, 3, 4), R(1, 2, 4, 2) });
        GradCheck.Check(x => F.ScaledDotProductAttention(x[0], x[1], x[2]), new[] { R(2, 2, 3, 4), R(2, 5, 4), R(1, 2, 5, 3) });
    }

    // ---- Edge cases and argument checks ----

    [Fact]
    public void EmptyInnerDimensionGivesZeros()
    {
        using var scope = DisposeScope.Enter();
        var a = Torch.Zeros(3, 0).RequiresGrad_();
        var b = Torch.Zeros(0, 4).RequiresGrad_();
        var c = Torch.Matmul(a, b);
        TensorAssert.Close(Torch.Zeros(3, 4), c);
        c.Sum().Backward();
        Assert.Equal(new[] { 3, 0 }, a.Grad!.Shape);
        Assert.Equal(new[] { 0, 4 }, b.Grad!.Shape);
        var y = F.Linear(Torch.Zeros(2, 0), Torch.Zeros(5, 0), Torch.Full(new[] { 5 }, 2f));
        TensorAssert.Close(Torch.Full(new[] { 2, 5 }, 2f), y);
    }

    [Fact]
    public void OutputsAreWhatTheyShouldBeOnSimpleValues()
    {
        using var scope = DisposeScope.Enter();
        var a = Torch.FromArray(new[] { 1f, 2f, 3f, 4f }, 2, 2);
        var b = Torch.FromArray(new[] { 5f, 6f, 7f, 8f }, 2, 2);
        TensorAssert.Close(new[] { 19f, 22f, 43f, 50f }, Torch.Matmul(a, b));
        Assert.Equal(0, Torch.Matmul(Torch.FromArray(new[] { 1f, 2f }, 2), Torch.FromArray(new[] { 3f, 4f }, 2)).Rank);
        // A 2×2 box filter over a 3×3 ramp, stride 1: sums of each 2×2 window.
        var x = Torch.Arange(9).Reshape(1, 1, 3, 3);
        var y = F.Conv2d(x, Torch.Ones(1, 1, 2, 2));
        TensorAssert.Close(new[] { 8f, 12f, 20f, 24f }, y);
        // Attention with one key returns its value whatever the query.
        var v = Torch.FromArray(new[] { 3f, -1f }, 1, 1, 2);
        var o = F.ScaledDotProductAttention(Torch.Randn(new[] { 1, 4, 5 }), Torch.Randn(new[] { 1, 1, 5 }), v);
        TensorAssert.Close(Torch.FromArray(new[] { 3f, -1f, 3f, -1f, 3f, -1f, 3f, -1f }, 1, 4, 2), o);
    }

    [Fact]
    public void BadArgumentsNameTheOpAndShapes()
    {
        using var scope = DisposeScope.Enter();
        void Throws(Action act, string op)
        {
            var e = Assert.Throws<ArgumentException>(act);
            Assert.Contains(op, e.Message);
        }
        Throws(() => Torch.Matmul(Torch.Ones(2, 3), Torch.Ones(4, 2)), "Matmul");
        Throws(() => Torch.Matmul(Torch.Ones(2, 2, 3), Torch.Ones(3, 3, 2)), "Matmul");
        Throws(() => Torch.Matmul(Torch.Scalar(1f), Torch.Ones(2)), "Matmul");
        Throws(() => Torch.Bmm(Torch.Ones(2, 3), Torch.Ones(3, 2)), "Bmm");
        Throws(() => Torch.Bmm(Torch.Ones(2, 2, 3), Torch.Ones(3, 3, 2)), "Bmm");
        Throws(() => F.Linear(Torch.Ones(2, 3), Torch.Ones(4, 5)), "Linear");
        Throws(() => F.Linear(Torch.Ones(2, 3), Torch.Ones(4, 3), Torch.Ones(3)), "Linear");
        Throws(() => F.Conv2d(Torch.Ones(1, 3, 5, 5), Torch.Ones(4, 2, 3, 3)), "Conv2d");
        Throws(() => F.Conv2d(Torch.Ones(1, 4, 5, 5), Torch.Ones(3, 2, 3, 3), groups: 2), "Conv2d");
        Throws(() => F.Conv2d(Torch.Ones(1, 3, 2, 2), Torch.Ones(4, 3, 3, 3)), "Conv2d");
        Throws(() => F.Conv2d(Torch.Ones(1, 3, 5, 5), Torch.Ones(4, 3, 3, 3), Torch.Ones(3)), "Conv2d");
        Throws(() => F.Conv2d(Torch.Ones(1, 3, 5, 5), Torch.Ones(4, 3, 3, 3), null, stride: 0), "Conv2d");
        Throws(() => F.Conv2d(Torch.Ones(1, 3, 5, 5), Torch.Ones(4, 3, 3, 3), null, new[] { 1, 1, 1 }), "Conv2d");
        Throws(() => F.ScaledDotProductAttention(Torch.Ones(2, 3, 4), Torch.Ones(2, 5, 3), Torch.Ones(2, 5, 3)), "ScaledDotProductAttention");
        Throws(() => F.ScaledDotProductAttention(Torch.Ones(2, 3, 4), Torch.Ones(2, 5, 4), Torch.Ones(2, 6, 3)), "ScaledDotProductAttention");
        Throws(() => F.ScaledDotProductAttention(Torch.Ones(3, 4), Torch.Ones(5, 4), Torch.Ones(5, 3), Torch.Ones(3, 4)), "ScaledDotProductAttention");
        Throws(() => F.ScaledDotProductAttention(Torch.Ones(3, 4), Torch.Ones(5, 4), Torch.Ones(5, 3), Torch.Zeros(3, 5), isCausal: true), "ScaledDotProductAttention");
    }
}
