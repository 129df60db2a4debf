using CrossDistill.Engine.Tests.Determinism;
using CrossDistill.TestSupport;

namespace CrossDistill.Engine.Tests.Ops;

/// <summary>
/// Split and chunk share one backward node across their pieces: the input's gradient is built
/// once, whichever pieces are used, and matches per-piece narrowing exactly.
/// </summary>
public class SplitBackwardTests
{
    private static Tensor Leaf(Tensor t) => t.Detach().RequiresGrad_();

    [Fact]
    public void PiecesShareOneNode()
    {
        using var scope = DisposeScope.Enter();
        var x = Leaf(Torch.Randn(new[] { 4, 7 }, new Generator(1)));
        var pieces = Torch.Split(x, new[] { 2, 0, 5 }, 1);
        Assert.All(pieces, p => Assert.Same(pieces[0].GradFn, p.GradFn));
        Assert.Equal("SplitBackward", pieces[0].GradFn!.Name);
        Assert.Equal(3, pieces[0].GradFn!.OutputCount);
        Assert.Equal(new[] { 0, 1, 2 }, pieces.Select(p => p.GradFnOutputIndex));
        Assert.All(pieces, p => Assert.Same(x.Storage, p.Storage));

        using (GradMode.NoGrad())
            Assert.All(Torch.Chunk(x, 3, 0), p => Assert.Null(p.GradFn));
    }

    [Fact]
    public void UnusedPiecesGetZeroGradient()
    {
        using var scope = DisposeScope.Enter();
        var g = new Generator(2);
        var x = Leaf(Torch.Randn(new[] { 3, 9 }, g));
        var pieces = Torch.Split(x, 2, 1); // sizes 2, 2, 2, 2, 1
        var w0 = Torch.Randn(new[] { 3, 2 }, g);
        var w3 = Torch.Randn(new[] { 3, 2 }, g);
        var w4 = Torch.Randn(new[] { 3, 1 }, g);
        // piece 3 is used twice: its gradients add up before the shared backward runs
        ((pieces[0] * w0).Sum() + (pieces[3] * w3).Sum() + (pieces[4] * w4).Sum() + pieces[3].Sum()).Backward();

        var expected = new float[3 * 9];
        float[] a0 = w0.ToArray(), a3 = w3.ToArray(), a4 = w4.ToArray();
        for (int r = 0; r < 3; r++)
        {
            for (int c = 0; c < 2; c++)
            {
                expected[r * 9 + c] = a0[r * 2 + c];
                expected[r * 9 + 6 + c] = a3[r * 2 + c] + 1;
            }
            expected[r * 9 + 8] = a4[r];
        }
        Assert.Equal(expected, x.Grad!.ToArray());
    }

    [Fact]
    public void GradientsEqualPerPieceNarrowingBitForBit()
    {
        using var scope = DisposeScope.Enter();
        var g = new Generator(3);
        // channels-last input, chunked along channels; some pieces unused, some used through views
        var data = Torch.Randn(new[] { 2, 10, 3, 4 }, g).ContiguousChannelsLast();
        var weights = Enumerable.Range(0, 4).Select(_ => Torch.Randn(new[] { 2, 3, 3, 4 }, g)).ToArray();
        foreach (var used in new[] { new[] { 0, 1, 2, 3 }, new[] { 1 }, new[] { 0, 3 } })
        {
            var x = Leaf(data);
            var pieces = Torch.Chunk(x, 4, 1); // 3, 3, 3, 1 channels
            Tensor? loss = null;
            foreach (int i in used)
            {
                var term = (pieces[i].Permute(0, 2, 3, 1) * weights[i].Narrow(1, 0, pieces[i].Shape[1]).Permute(0, 2, 3, 1)).Sum();
                loss = loss is null ? term : loss + term;
            }
            loss!.Backward();

            var reference = Leaf(data);
            Tensor? referenceLoss = null;
            foreach (int i in used)
            {
                var piece = reference.Narrow(1, 3 * i, pieces[i].Shape[1]);
                var term = (piece.Permute(0, 2, 3, 1) * weights[i].Narrow(1, 0, pieces[i].Shape[1]).Permute(0, 2, 3, 1)).Sum();
                referenceLoss = referenceLoss is null ? term : referenceLoss + term;
            }
            referenceLoss!.Backward();
            Assert.Equal(reference.Grad!.ToArray(), x.Grad!.ToArray());
        }
    }

    [Fact]
    public void UnbindSharesOneNodeAndMatchesSelectBitForBit()
    {
        using var scope = DisposeScope.Enter();
        var g = new Generator(4);
        // attention's layout: (3, N, heads, L, head_dim) unbound into q, k and v
        var data = Torch.Randn(new[] { 3, 2, 2, 5, 3 }, g);
        var upstream = Enumerable.Range(0, 3).Select(_ => Torch.Randn(new[] { 2, 2, 5, 3 }, g)).ToArray();

        var x = Leaf(data);
        var pieces = Torch.Unbind(x, 0);
        Assert.Equal(3, pieces.Length);
        Assert.All(pieces, p => Assert.Equal(new[] { 2, 2, 5, 3 }, p.Shape));
        ((pieces[0] * upstream[0]).Sum() + (pieces[1] * upstream[1]).Sum() + (pieces[2] * upstream[2]).Sum()).Backward();

        var reference = Leaf(data);
        ((reference.Select(0, 0) * upstream[0]).Sum() + (reference.Select(0, 1) * upstream[1]).Sum() + (reference.Select(0, 2) * upstream[2]).Sum()).Backward();
        Assert.Equal(reference.Grad!.ToArray(), x.Grad!.ToArray());
        for (int i = 0; i < 3; i++) Assert.Equal(data.Select(0, i).ToArray(), pieces[i].ToArray());
    }

    [Fact]
    public void APieceCanBeTheRootOfBackward()
    {
        using var scope = DisposeScope.Enter();
        var x = Leaf(Torch.Arange(12).Reshape(3, 4));
        var pieces = x.Split(new[] { 1, 2 }, 0);
        pieces[1].Backward(Torch.Full(new[] { 2, 4 }, 2f));
        Assert.Equal(new float[] { 0, 0, 0, 0, 2, 2, 2, 2, 2, 2, 2, 2 }, x.Grad!.ToArray());
    }

    [Fact]
    public void ASecondBackwardThroughTheSameSplitFails()
    {
        using var scope = DisposeScope.Enter();
        var x = Leaf(Torch.Randn(new[] { 4, 2 }, new Generator(4)));
        var pieces = Torch.Chunk(x, 2);
        pieces[0].Sum().Backward();
        var e = Assert.Throws<InvalidOperationException>(() => pieces[1].Sum().Backward());
        Assert.Contains("SplitBackward", e.Message);
    }

    [Fact]
    public void FiniteDifferencesAgree()
    {
        using var scope = DisposeScope.Enter();
        var a = Torch.Randn(new[] { 3, 5, 4 }, new Generator(5));
        GradCheck.Check(x => Torch.Split(x[0], new[] { 1, 3, 1 }, 1)[1] * 2f + Torch.Chunk(x[0], 3, 1)[0].Sum(1, keepDim: true), new[] { a });
        GradCheck.Check(x => Torch.Cat(Torch.Chunk(x[0], 2, -1).Reverse().ToArray(), -1).Exp(), new[] { a });
    }
}

/// <summary>The shared split backward keeps memory at one input-sized gradient, however many pieces there are.</summary>
[Collection(SerialCollection.Name)]
public class SplitBackwardMemoryTests
{
    [Fact]
    public void ManyPiecesDoNotEachBuildAFullSizeGradient()
    {
        using var scope = DisposeScope.Enter();
        const int pieces = 64, rows = 64, width = 64 * 16;
        var x = Torch.Randn(new[] { rows, width }, new Generator(6)).RequiresGrad_();
        long inputBytes = (long)rows * width * sizeof(float);
        var chunks = Torch.Chunk(x, pieces, 1);
        // Multiplying by 1 keeps each piece's gradient a fresh tensor, so the engine sees 64 separate ones.
        var loss = chunks.Select(c => (c * 1f).Sum()).Aggregate((s, t) => s + t);
        MemoryPool.ResetPeak();
        long before = MemoryPool.BytesInUse;
        loss.Backward();
        long growth = MemoryPool.PeakBytesInUse - before;
        Assert.True(growth < 4 * inputBytes, $"backward through {pieces} pieces peaked at {growth} bytes above the start; the input has {inputBytes}");
        Assert.All(x.Grad!.ToArray(), v => Assert.Equal(1f, v));
    }
}
