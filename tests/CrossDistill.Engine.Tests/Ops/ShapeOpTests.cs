using System.Text.Json;
using CrossDistill.TestSupport;

namespace CrossDistill.Engine.Tests.Ops;

public class ShapeOpTests
{
    private const string File = "shape";

    private static int[] IntOrInts(OpCase c, string key) => c.Ints(key) ?? new[] { c.Int(key) };

    private static int[]? OptionalInts(OpCase c, string key) => c.Has(key) ? IntOrInts(c, key) : null;

    private static float[]? Floats(OpCase c, string key)
        => c.Args.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.Array ? v.EnumerateArray().Select(e => e.GetSingle()).ToArray() : null;

    private static readonly Dictionary<string, OpUnderTest> Ops = new()
    {
        ["cat"] = (c, x) => new[] { Torch.Cat(x, c.Int("dim")) },
        ["stack"] = (c, x) => new[] { Torch.Stack(x, c.Int("dim")) },
        ["split"] = (c, x) => c.Has("sizes") ? Torch.Split(x[0], c.Ints("sizes")!, c.Int("dim")) : Torch.Split(x[0], c.Int("size"), c.Int("dim")),
        ["chunk"] = (c, x) => Torch.Chunk(x[0], c.Int("chunks"), c.Int("dim")),
        ["unbind"] = (c, x) => Torch.Unbind(x[0], c.Int("dim")),
        ["index_select"] = (c, x) => new[] { Torch.IndexSelect(x[0], c.Int("dim"), x[1]) },
        ["gather"] = (c, x) => new[] { Torch.Gather(x[0], c.Int("dim"), x[1]) },
        ["scatter_add"] = (c, x) => new[] { Torch.ScatterAdd(x[0], c.Int("dim"), x[1], x[2]) },
        ["one_hot"] = (c, x) => new[] { F.OneHot(x[0], c.Int("classes")) },
        ["embedding"] = (c, x) => new[] { F.Embedding(x[0], x[1]) },
        ["pad"] = (c, x) => new[] { F.Pad(x[0], c.Ints("pad")!, c.Str("mode")!, c.Float("value")) },
        ["interpolate"] = (c, x) => new[] { F.Interpolate(x[0], c.Ints("size"), Floats(c, "scale"), c.Str("mode")!, c.Bool("align_corners")) },
        ["max_pool2d"] = (c, x) => new[] { F.MaxPool2d(x[0], IntOrInts(c, "kernel"), OptionalInts(c, "stride"), IntOrInts(c, "padding"), IntOrInts(c, "dilation"), c.Bool("ceil_mode")) },
        ["avg_pool2d"] = (c, x) => new[] { F.AvgPool2d(x[0], IntOrInts(c, "kernel"), OptionalInts(c, "stride"), IntOrInts(c, "padding"), c.Bool("ceil_mode"), c.Bool("count_include_pad")) },
        ["adaptive_avg_pool2d"] = (c, x) => new[] { F.AdaptiveAvgPool2d(x[0], c.Ints("out")![0], c.Ints("out")![1]) },
        ["adaptive_max_pool2d"] = (c, x) => new[] { F.AdaptiveMaxPool2d(x[0], c.Ints("out")![0], c.Ints("out")![1]) },
    };

    public static IEnumerable<object[]> Cases => OpFixtures.CaseNames(File);

    [Theory]
    [MemberData(nameof(Cases))]
    public void MatchesPyTorch(string name) => OpCaseRunner.Run(File, name, Ops);

    private static Tensor Random(int seed, params int[] shape) => Torch.Randn(shape, new Generator((ulong)seed)).DetachFromScopes();

    /// <summary>Distinct values 0.1 apart in random order: no ties, so finite differences never cross a maximum.</summary>
    private static Tensor Spread(int seed, params int[] shape)
    {
        var perm = new Generator((ulong)seed).Permutation(ShapeUtil.Numel(shape));
        return Torch.FromArray(perm.Select(p => p * 0.1f - perm.Length * 0.05f).ToArray(), shape).DetachFromScopes();
    }

    private static Tensor Longs(params long[] values) => Torch.FromArray(values).DetachFromScopes();

    // GradCheck perturbs inputs in storage order but reads gradients in row-major order, so
    // channels-last inputs are made inside the checked function (the copy is recorded).
    private static Tensor ChannelsLast(Tensor t) => t.ContiguousChannelsLast();

    [Fact]
    public void JoiningAndSplittingGradientsAgreeWithFiniteDifferences()
    {
        var a = Random(1, 2, 3, 4);
        var b = Random(2, 2, 1, 4);
        GradCheck.Check(x => Torch.Cat(new[] { x[0], x[1].Transpose(0, 2).Transpose(0, 2) }, 1), new[] { a, b });
        GradCheck.Check(x => Torch.Stack(new[] { x[0], x[0] * x[1] }, -1), new[] { a, a });
        GradCheck.Check(x => Torch.Split(x[0], 2, 2)[1] * Torch.Chunk(x[0], 2, -1)[0], new[] { a });
        GradCheck.Check(x => Torch.Split(x[0], new[] { 1, 2 }, 1)[1].Sum(1) + Torch.Chunk(x[0], 3, 1)[2].Sum(1), new[] { a });
    }

    [Fact]
    public void IndexingGradientsAgreeWithFiniteDifferences()
    {
        var x = Random(3, 4, 5);
        GradCheck.Check(t => Torch.IndexSelect(t[0], 1, Longs(4, 0, 4, 2)), new[] { x });
        GradCheck.Check(t => Torch.Gather(t[0], 0, Torch.FromArray(new long[] { 3, 0, 0, 1, 2, 2, 3, 3 }, 2, 4)), new[] { x });
        var src = Random(4, 3, 6);
        var index = Torch.FromArray(new long[] { 0, 4, 4, 1, 2, 0, 3, 3, 3, 3 }, 2, 5).DetachFromScopes();
        // src is larger than the index: its unread entries must get zero gradient.
        GradCheck.Check(t => Torch.ScatterAdd(t[0], 1, index, t[1]), new[] { x, src });
        var weight = Random(5, 6, 3);
        GradCheck.Check(t => F.Embedding(Torch.FromArray(new long[] { 5, 0, 5, 5, 2, 0 }, 3, 2), t[0]), new[] { weight });
    }

    [Fact]
    public void PaddingGradientsAgreeWithFiniteDifferences()
    {
        var x = Random(6, 2, 3, 4, 5);
        GradCheck.Check(t => F.Pad(t[0], new[] { 1, -2, 2, 0 }, value: 0.3f), new[] { x });
        GradCheck.Check(t => F.Pad(t[0], new[] { 3, 1, 2, 3 }, "reflect"), new[] { x });
        GradCheck.Check(t => F.Pad(ChannelsLast(t[0]), new[] { 2, 4, 1, 0 }, "replicate"), new[] { x });
        GradCheck.Check(t => F.Pad(t[0], new[] { 2, 1 }, "reflect"), new[] { Random(7, 3, 4) });
    }

    [Fact]
    public void InterpolationGradientsAgreeWithFiniteDifferences()
    {
        var x = Random(8, 1, 3, 4, 5);
        GradCheck.Check(t => F.Interpolate(t[0], new[] { 7, 3 }), new[] { x });
        GradCheck.Check(t => F.Interpolate(t[0], scaleFactor: new[] { 1.5f }, mode: "bilinear"), new[] { x });
        GradCheck.Check(t => F.Interpolate(ChannelsLast(t[0]), new[] { 6, 9 }, mode: "bilinear", alignCorners: true), new[] { Random(9, 1, 20, 3, 4) });
    }

    [Fact]
    public void PoolingGradientsAgreeWithFiniteDifferences()
    {
        var x = Spread(10, 2, 2, 7, 6);
        GradCheck.Check(t => F.MaxPool2d(t[0], 3, 2, 1, ceilMode: true), new[] { x });
        GradCheck.Check(t => F.MaxPool2d(ChannelsLast(t[0]), new[] { 2, 3 }, new[] { 1, 2 }, new[] { 1, 0 }, new[] { 2, 1 }), new[] { Spread(11, 1, 18, 6, 7) });
        GradCheck.Check(t => F.AvgPool2d(t[0], 3, 2, 1, ceilMode: true, countIncludePad: false), new[] { x });
        GradCheck.Check(t => F.AvgPool2d(ChannelsLast(t[0]), 2, 1), new[] { Random(12, 1, 20, 4, 3) });
        GradCheck.Check(t => F.AdaptiveAvgPool2d(t[0], 3, 4), new[] { x });
        GradCheck.Check(t => F.AdaptiveMaxPool2d(t[0], 4, 3), new[] { x });
    }

    [Fact]
    public void ChannelsLastInputsGiveChannelsLastOutputsWithTheSameValues()
    {
        using var scope = DisposeScope.Enter();
        var x = Random(13, 2, 21, 9, 7);
        var cl = x.ContiguousChannelsLast();
        var cases = new (string Name, Func<Tensor, Tensor> Op)[]
        {
            ("cat", t => Torch.Cat(new[] { t, t }, 1)),
            ("pad constant", t => F.Pad(t, new[] { 1, 2, -1, 3 }, value: 2f)),
            ("pad reflect", t => F.Pad(t, new[] { 1, 2, 3, 0 }, "reflect")),
            ("nearest", t => F.Interpolate(t, scaleFactor: new[] { 1.6f })),
            ("bilinear", t => F.Interpolate(t, new[] { 5, 11 }, mode: "bilinear")),
            ("max pool", t => F.MaxPool2d(t, 3, 2, 1)),
            ("avg pool", t => F.AvgPool2d(t, 3, 2, 1, countIncludePad: false)),
            ("adaptive avg", t => F.AdaptiveAvgPool2d(t, 4, 3)),
            ("adaptive max", t => F.AdaptiveMaxPool2d(t, 1)),
        };
        foreach (var (name, op) in cases)
        {
            var expected = op(x);
            var actual = op(cl);
            Assert.True(actual.IsChannelsLast, $"{name}: the output of a channels-last input is not channels-last");
            TensorAssert.Close(expected, actual, 1e-6f, 1e-6f, name);
        }
    }

    [Fact]
    public void LargeInputsTakeTheParallelPathsAndAgreeWithTheSerialLayouts()
    {
        using var scope = DisposeScope.Enter();
        // Big enough that every kernel splits its work across the workers.
        var x = Random(14, 4, 40, 33, 31).RequiresGrad_();
        var cl = x.Detach().ContiguousChannelsLast().RequiresGrad_();
        var g = Random(15, 4, 40, 17, 16);
        var ops = new (string Name, Func<Tensor, Tensor> Op)[]
        {
            ("max pool", t => F.MaxPool2d(t, 3, 2, 1)),
            ("avg pool", t => F.AvgPool2d(t, 3, 2, 1, ceilMode: true)),
            ("adaptive avg", t => F.AdaptiveAvgPool2d(t, 17, 16)),
            ("bilinear", t => F.Interpolate(t, new[] { 17, 16 }, mode: "bilinear")),
            ("nearest", t => F.Interpolate(t, new[] { 17, 16 })),
            ("pad", t => F.Pad(t, new[] { -7, -8, -8, -8 }, "constant")),
        };
        foreach (var (name, op) in ops)
        {
            var a = op(x);
            var b = op(cl);
            TensorAssert.Close(a, b, 1e-6f, 1e-6f, name);
            a.Backward(g);
            b.Backward(g);
            TensorAssert.Close(x.Grad!, cl.Grad!, 1e-5f, 1e-6f, name + " gradient");
            x.Grad = null;
            cl.Grad = null;
        }
    }

    [Fact]
    public void CatOfLargeTensorsCopiesEveryBlock()
    {
        using var scope = DisposeScope.Enter();
        var a = Random(16, 3, 300, 200);
        var b = Random(17, 200, 200, 3).Permute(2, 1, 0);
        var c = Random(18, 3, 1, 200);
        var joined = Torch.Cat(new[] { a, b, c }, 1);
        Assert.Equal(new[] { 3, 501, 200 }, joined.Shape);
        TensorAssert.Close(a, joined.Narrow(1, 0, 300), 0, 0, "first part");
        TensorAssert.Close(b, joined.Narrow(1, 300, 200), 0, 0, "second part");
        TensorAssert.Close(c, joined.Narrow(1, 500, 1), 0, 0, "third part");
        var batch = Torch.Cat(new[] { a, a }, 0);
        TensorAssert.Close(a, batch.Narrow(0, 3, 3), 0, 0, "batch cat");
        var d = Random(19, 200, 300, 3).Permute(2, 1, 0);
        var stacked = Torch.Stack(new[] { a, d }, 3);
        TensorAssert.Close(a, stacked.Select(3, 0), 0, 0, "stack");
        TensorAssert.Close(d, stacked.Select(3, 1), 0, 0, "stack");
    }

    [Fact]
    public void EmbeddingGradientSumsRepeatedRowsInIndexOrder()
    {
        using var scope = DisposeScope.Enter();
        const int rows = 50, width = 300, count = 4000;
        var gen = new Generator(19);
        var ids = Enumerable.Range(0, count).Select(_ => (long)gen.NextInt(rows)).ToArray();
        var weight = Random(20, rows, width).RequiresGrad_();
        var g = Random(21, count, width);
        F.Embedding(Torch.FromArray(ids), weight).Backward(g);
        var expected = new float[rows * width];
        var gv = g.ToArray();
        for (int j = 0; j < count; j++)
            for (int c = 0; c < width; c++) expected[ids[j] * width + c] += gv[j * width + c];
        Assert.Equal(expected, weight.Grad!.ToArray());
    }

    [Fact]
    public void SplitAndChunkReturnViewsOfTheInput()
    {
        using var scope = DisposeScope.Enter();
        var x = Torch.Arange(24).Reshape(2, 3, 4);
        var pieces = Torch.Split(x, new[] { 1, 3 }, -1).Concat(Torch.Chunk(x, 2, 1)).Concat(x.Split(2, 0));
        foreach (var piece in pieces) Assert.Same(x.Storage, piece.Storage);
        var last = Torch.Chunk(x, 2, 1)[1];
        Assert.Equal(new[] { 2, 1, 4 }, last.Shape);
        Assert.Equal(new float[] { 8, 9, 10, 11, 20, 21, 22, 23 }, last.ToArray());
    }

    [Fact]
    public void ZeroDimensionalInputsAndEmptyPiecesBehaveAsInPyTorch()
    {
        using var scope = DisposeScope.Enter();
        var pieces = Torch.Chunk(Torch.Zeros(0, 3), 3);
        Assert.Equal(3, pieces.Length);
        Assert.All(pieces, p => Assert.Equal(new[] { 0, 3 }, p.Shape));
        Assert.Single(Torch.Split(Torch.Zeros(0), 2));
        Assert.Equal(new[] { 0, 4 }, Torch.IndexSelect(Torch.Zeros(5, 4), 0, Torch.FromArray(Array.Empty<long>(), 0)).Shape);
        Assert.Equal(new[] { 2, 5 }, F.OneHot(Torch.FromArray(new long[] { 4, 0 })).Shape);
    }

    [Fact]
    public void BadArgumentsNameTheOpAndTheProblem()
    {
        using var scope = DisposeScope.Enter();
        var x = Torch.Zeros(3, 4);
        void Throws(Action act, params string[] parts)
        {
            var e = Assert.ThrowsAny<ArgumentException>(act);
            foreach (var p in parts) Assert.Contains(p, e.Message);
        }
        Throws(() => Torch.IndexSelect(x, 1, Longs(0, 4)), "IndexSelect", "index 4", "size 4");
        Throws(() => Torch.IndexSelect(x, 0, Longs(-1)), "IndexSelect", "index -1", "size 3");
        Throws(() => Torch.Gather(x, 0, Torch.FromArray(new long[] { 0, 7 }, 1, 2)), "Gather", "index 7", "size 3");
        Throws(() => Torch.Gather(x, 0, Torch.FromArray(new long[] { 0, 1, 2, 0, 1 }, 1, 5)), "Gather", "[1, 5]", "[3, 4]");
        Throws(() => Torch.ScatterAdd(x, 1, Torch.FromArray(new long[] { 9 }, 1, 1), Torch.Zeros(1, 1)), "ScatterAdd", "index 9", "size 4");
        Throws(() => F.Embedding(Longs(2, 10), Torch.Zeros(10, 2)), "Embedding", "index 10", "10 rows");
        Throws(() => F.OneHot(Longs(1, 5), 5), "OneHot", "index 5", "5 classes");
        Throws(() => F.OneHot(Torch.Zeros(2)), "OneHot", "int64");
        Throws(() => Torch.Cat(new[] { x, Torch.Zeros(3, 5) }, 0), "Cat", "[3, 4]", "[3, 5]");
        Throws(() => Torch.Cat(new[] { x, x }, 2), "Cat", "dimension 2");
        Throws(() => Torch.Stack(new[] { x, Torch.Zeros(4, 3) }), "Stack", "[3, 4]", "[4, 3]");
        Throws(() => Torch.Split(x, new[] { 1, 1 }, 1), "Split", "4");
        Throws(() => Torch.Chunk(x, 0), "Chunk");
        Throws(() => F.Pad(x, new[] { 4, 0 }, "reflect"), "Pad", "reflect", "size 4");
        Throws(() => F.Pad(x, new[] { -1, 0 }, "replicate"), "Pad", "negative");
        Throws(() => F.Pad(x, new[] { 1, 1, 1 }), "Pad");
        Throws(() => F.Pad(x, new[] { 0, 0 }, "circular"), "Pad", "circular");
        var image = Torch.Zeros(1, 2, 4, 4);
        Throws(() => F.MaxPool2d(image, 2, 1, 2), "MaxPool2d", "padding");
        Throws(() => F.MaxPool2d(image, 5), "MaxPool2d", "too small");
        Throws(() => F.AvgPool2d(image, new[] { 2, 2, 2 }), "AvgPool2d", "kernelSize");
        Throws(() => F.AdaptiveAvgPool2d(x, 2), "AdaptiveAvgPool2d", "[3, 4]");
        Throws(() => F.Interpolate(image, new[] { 3 }, new[] { 2f }), "Interpolate", "exactly one");
        Throws(() => F.Interpolate(image, new[] { 3 }, alignCorners: true), "Interpolate", "alignCorners");
        Throws(() => F.Interpolate(Torch.Zeros(2, 4, 4), new[] { 3 }), "Interpolate", "4-d");
    }
}
