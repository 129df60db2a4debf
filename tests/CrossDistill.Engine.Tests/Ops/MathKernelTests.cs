using CrossDistill.Engine.Kernels;
using CrossDistill.Engine.Tests.Determinism;
using CrossDistill.TestSupport;

namespace CrossDistill.Engine.Tests.Ops;

/// <summary>
/// The fused row/column kernels on tensors big enough to run on several workers, checked against
/// double references; layouts they must keep; thread-count independence; NaN and edge semantics;
/// argument errors.
/// </summary>
// One test switches Workers.Threads, which would change the pieces of every kernel running in parallel.
[Collection(SerialCollection.Name)]
public class MathKernelTests
{
    private static double[] Row(float[] data, int start, int length, int stride = 1)
        => Enumerable.Range(0, length).Select(j => (double)data[start + j * stride]).ToArray();

    private static void AssertClose(double expected, float actual, double rtol, double atol, string what)
        => Assert.True(Math.Abs(actual - expected) <= atol + rtol * Math.Abs(expected), $"{what}: got {actual}, expected {expected}");

    [Fact]
    public void SoftmaxAndLogSoftmaxMatchDoubleReferenceAlongRowsAndColumns()
    {
        using var scope = DisposeScope.Enter();
        const int rows = 300, cols = 1000;
        var x = Torch.Randn(new[] { rows, cols }, new Generator(1)) * 5f;
        var g = Torch.Randn(new[] { rows, cols }, new Generator(2));
        var xv = x.ToArray();
        var gv = g.ToArray();
        foreach (int dim in new[] { 1, 0 })
        {
            int n = dim == 1 ? cols : rows, count = dim == 1 ? rows : cols, stride = dim == 1 ? 1 : cols;
            var xl = x.Detach().RequiresGrad_();
            var y = F.Softmax(xl, dim);
            (y * g).Sum().Backward();
            var yv = y.ToArray();
            var gx = xl.Grad!.ToArray();
            var xl2 = x.Detach().RequiresGrad_();
            var ly = F.LogSoftmax(xl2, dim);
            (ly * g).Sum().Backward();
            var lyv = ly.ToArray();
            var lgx = xl2.Grad!.ToArray();
            for (int r = 0; r < count; r += 7)
            {
                int start = dim == 1 ? r * cols : r;
                var xr = Row(xv, start, n, stride);
                var gr = Row(gv, start, n, stride);
                double m = xr.Max();
                double sum = xr.Sum(e => Math.Exp(e - m));
                var p = xr.Select(e => Math.Exp(e - m) / sum).ToArray();
                double dot = p.Select((e, j) => e * gr[j]).Sum(), gsum = gr.Sum(), dotMagnitude = p.Select((e, j) => Math.Abs(e * gr[j])).Sum(), gMagnitude = gr.Sum(Math.Abs);
                for (int j = 0; j < n; j++)
                {
                    int k = start + j * stride;
                    AssertClose(p[j], yv[k], 2e-6, 1e-9, $"softmax dim {dim} [{r}, {j}]");
                    AssertClose(xr[j] - m - Math.Log(sum), lyv[k], 1e-6, 2e-6, $"log_softmax dim {dim} [{r}, {j}]");
                    // g - Σg·p cancels when g is close to the sum, so the error scales with the terms, not the result.
                    AssertClose(p[j] * (gr[j] - dot), gx[k], 1e-5, 1e-6 * p[j] * (Math.Abs(gr[j]) + dotMagnitude), $"softmax grad dim {dim} [{r}, {j}]");
                    AssertClose(gr[j] - p[j] * gsum, lgx[k], 1e-5, 1e-6 * (Math.Abs(gr[j]) + p[j] * gMagnitude), $"log_softmax grad dim {dim} [{r}, {j}]");
                }
            }
        }
    }

    [Fact]
    public void SoftmaxKeepsChannelsLastAndAgreesWithTheContiguousResult()
    {
        using var scope = DisposeScope.Enter();
        var x = Torch.Randn(new[] { 2, 19, 5, 7 }, new Generator(3));
        var cl = x.ContiguousChannelsLast();
        foreach (int dim in new[] { 1, 2, 3, 0 })
        {
            var a = F.Softmax(cl, dim);
            Assert.True(a.IsChannelsLast, $"softmax over dim {dim} lost the channels-last layout");
            TensorAssert.Close(F.Softmax(x, dim), a, what: $"softmax dim {dim}");
            TensorAssert.Close(F.LogSoftmax(x, dim), F.LogSoftmax(cl, dim), what: $"log_softmax dim {dim}");
        }
    }

    [Fact]
    public void SoftmaxOfExtremeRows()
    {
        using var scope = DisposeScope.Enter();
        var x = Torch.FromArray(new[] { 1e4f, -1e4f, 1e4f, 0f, float.NegativeInfinity, float.NegativeInfinity, float.NegativeInfinity, float.NegativeInfinity }, 2, 4);
        var y = F.Softmax(x, 1).ToArray();
        Assert.Equal(new[] { 0.5f, 0f, 0.5f, 0f }, y.Take(4));
        Assert.All(y.Skip(4), e => Assert.True(float.IsNaN(e)));
        var ly = F.LogSoftmax(x, 1).ToArray();
        Assert.Equal(-MathF.Log(2f), ly[0], 6);
        Assert.Equal(float.NegativeInfinity, ly[1] < -1e3f ? float.NegativeInfinity : ly[1]);
    }

    [Fact]
    public void LogsumexpMatchesDoubleReferenceOnBigRowsAndColumns()
    {
        using var scope = DisposeScope.Enter();
        var x = Torch.Randn(new[] { 64, 5000 }, new Generator(4)) * 20f;
        var xv = x.ToArray();
        var rows = Torch.Logsumexp(x, new[] { 1 }).ToArray();
        var cols = Torch.Logsumexp(x, new[] { 0 }).ToArray();
        for (int r = 0; r < 64; r++)
        {
            var row = Row(xv, r * 5000, 5000);
            double m = row.Max();
            AssertClose(m + Math.Log(row.Sum(e => Math.Exp(e - m))), rows[r], 1e-6, 1e-6, $"row {r}");
        }
        for (int c = 0; c < 5000; c += 13)
        {
            var col = Row(xv, c, 64, 5000);
            double m = col.Max();
            AssertClose(m + Math.Log(col.Sum(e => Math.Exp(e - m))), cols[c], 1e-6, 1e-6, $"column {c}");
        }
    }

    [Fact]
    public void VarianceSurvivesALargeMeanOnRowsAndColumns()
    {
        using var scope = DisposeScope.Enter();
        // Mean 1000, spread 0.01: a one-pass float formula would lose every digit.
        var x = Torch.Randn(new[] { 40, 20000 }, new Generator(5)) * 0.01f + 1000f;
        var xv = x.ToArray();
        var rowVar = Torch.Var(x, new[] { 1 }).ToArray();
        var colStd = Torch.Std(x, new[] { 0 }, correction: 0).ToArray();
        var all = Torch.Var(x).Item();
        for (int r = 0; r < 40; r++)
        {
            var row = Row(xv, r * 20000, 20000);
            double m = row.Average();
            AssertClose(row.Sum(e => (e - m) * (e - m)) / 19999, rowVar[r], 1e-5, 0, $"row {r}");
        }
        for (int c = 0; c < 20000; c += 97)
        {
            var col = Row(xv, c, 40, 20000);
            double m = col.Average();
            AssertClose(Math.Sqrt(col.Sum(e => (e - m) * (e - m)) / 40), colStd[c], 1e-5, 0, $"column {c}");
        }
        double mean = xv.Average(e => (double)e);
        AssertClose(xv.Sum(e => (e - mean) * (e - mean)) / (xv.Length - 1), all, 1e-5, 0, "all");
    }

    [Fact]
    public void ArgReductionsFindTheFirstWinnerOnBigTensors()
    {
        using var scope = DisposeScope.Enter();
        var g = new Generator(6);
        var x = Torch.FromArray(Torch.RandInt(-20, 20, new[] { 200, 3000 }, g).ToLongArray().Select(e => (float)e).ToArray(), 200, 3000);
        var xv = x.ToArray();
        var (values, indices) = Torch.Max(x, 1);
        var argminCols = Torch.Argmin(x, 0).ToLongArray();
        var v = values.ToArray();
        var idx = indices.ToLongArray();
        for (int r = 0; r < 200; r++)
        {
            var row = xv.AsSpan(r * 3000, 3000);
            float m = float.NegativeInfinity;
            int at = -1;
            for (int j = 0; j < row.Length; j++) if (row[j] > m) { m = row[j]; at = j; }
            Assert.Equal(m, v[r]);
            Assert.Equal(at, idx[r]);
        }
        for (int c = 0; c < 3000; c++)
        {
            float m = float.PositiveInfinity;
            int at = -1;
            for (int r = 0; r < 200; r++) if (xv[r * 3000 + c] < m) { m = xv[r * 3000 + c]; at = r; }
            Assert.Equal(at, argminCols[c]);
        }
    }

    [Fact]
    public void ResultsDoNotDependOnTheThreadCount()
    {
        using var scope = DisposeScope.Enter();
        var x = Torch.Randn(new[] { 128, 777 }, new Generator(7)) * 3f;
        float[][] Run() => new[]
        {
            F.Softmax(x, 1).ToArray(), F.Softmax(x, 0).ToArray(), F.LogSoftmax(x, 0).ToArray(),
            Torch.Var(x, new[] { 1 }).ToArray(), Torch.Std(x, new[] { 0 }).ToArray(), Torch.Var(x).ToArray(),
            Torch.Logsumexp(x, new[] { 1 }).ToArray(), Torch.Logsumexp(x, new[] { 0 }).ToArray(),
            Torch.Max(x, 0).Values.ToArray(), Torch.Max(x).ToArray(), F.Gelu(x).ToArray(), TernaryElementwise.Zip(new WhereOperator(), Torch.Gt(x, 0f), x, x * 2f).ToArray(),
        };
        int threads = Workers.Threads;
        try
        {
            Workers.Threads = 1;
            var single = Run();
            Workers.Threads = 2;
            var multi = Run();
            for (int i = 0; i < single.Length; i++) Assert.Equal(single[i], multi[i]);
        }
        finally { Workers.Threads = threads; }
    }

    [Fact]
    public void NanAndEdgeSemanticsFollowPyTorch()
    {
        using var scope = DisposeScope.Enter();
        var x = Torch.FromArray(new[] { 1f, float.NaN, 3f, float.NaN, 2f }, 1, 5);
        Assert.True(float.IsNaN(Torch.Max(x).Item()));
        Assert.True(float.IsNaN(Torch.Min(x).Item()));
        var (v, i) = Torch.Max(x, 1);
        Assert.True(float.IsNaN(v.Item()));
        Assert.Equal(1L, i.ToLongArray()[0]);
        Assert.Equal(1L, Torch.Argmin(x, 1).ToLongArray()[0]);
        Assert.True(float.IsNaN(Torch.Maximum(x, Torch.Zeros(5)).ToArray()[1]));
        Assert.True(float.IsNaN(Torch.Clamp(x, 0f, 2f).ToArray()[1]));
        Assert.Equal(new[] { 1f, 1f, 1f, 1f, 1f }, Torch.Pow(x, 0f).ToArray());
        Assert.True(float.IsNaN(Torch.Pow(Torch.FromArray(new[] { -2f }, 1), 0.5f).Item()));
        // A NaN condition counts as true, like a cast to bool.
        Assert.Equal(new[] { 1f, 1f }, Torch.Where(Torch.FromArray(new[] { float.NaN, 0f }, 2), Torch.Ones(2), Torch.Ones(2)).ToArray());
        Assert.Equal(new[] { 0f, 0f, 0f, 0f, 0f }, Torch.Eq(x, x).ToArray().Select((e, k) => k % 2 == 1 ? e : 0f));
        // Clamp with min > max gives max everywhere, as torch.clamp.
        Assert.All(Torch.Clamp(Torch.FromArray(new[] { -5f, 0f, 5f }, 3), 1f, -1f).ToArray(), e => Assert.Equal(-1f, e));
        // Variance of one element with correction 1 is NaN; logsumexp of all -∞ is -∞.
        Assert.True(float.IsNaN(Torch.Var(Torch.Ones(1)).Item()));
        Assert.Equal(float.NegativeInfinity, Torch.Logsumexp(Torch.Full(new[] { 3 }, float.NegativeInfinity), new[] { 0 }).Item());
        Assert.Equal(float.PositiveInfinity, Torch.Logsumexp(Torch.FromArray(new[] { float.PositiveInfinity, 1f }, 2), new[] { 0 }).Item());
    }

    [Fact]
    public void BadArgumentsThrowNamingTheOp()
    {
        using var scope = DisposeScope.Enter();
        var x = Torch.Ones(2, 3);
        Assert.Contains("Clamp", Assert.Throws<ArgumentException>(() => Torch.Clamp(x, null, null)).Message);
        Assert.Contains("Gelu", Assert.Throws<ArgumentException>(() => F.Gelu(x, "fast")).Message);
        Assert.Contains("Max", Assert.Throws<ArgumentException>(() => Torch.Max(Torch.Zeros(0, 3))).Message);
        Assert.Contains("Argmax", Assert.Throws<ArgumentException>(() => Torch.Argmax(Torch.Zeros(2, 0), 1)).Message);
        Assert.Contains("Where", Assert.Throws<ArgumentException>(() => Torch.Where(Torch.ArangeLong(3), Torch.Ones(3), Torch.Ones(3))).Message);
        Assert.Contains("Var", Assert.Throws<ArgumentException>(() => Torch.Var(x, correction: -1)).Message);
        Assert.Contains("Maximum", Assert.Throws<ArgumentException>(() => Torch.Maximum(x, Torch.Ones(4))).Message);
        Assert.Contains("Where", Assert.Throws<ArgumentException>(() => Torch.Where(Torch.Ones(3, 1), x, Torch.Ones(4))).Message);
        Assert.Contains("Gt", Assert.Throws<ArgumentException>(() => Torch.Gt(x, Torch.Ones(2))).Message);
        Assert.Contains("Softmax", Assert.Throws<ArgumentOutOfRangeException>(() => F.Softmax(x, 2)).Message);
        Assert.Contains("[2, 3]", Assert.Throws<ArgumentOutOfRangeException>(() => Torch.Max(x, -3)).Message);
        Assert.Contains("Std", Assert.Throws<ArgumentException>(() => Torch.Std(x, new[] { 1, -1 })).Message);
        Assert.Contains("Logsumexp", Assert.Throws<ArgumentException>(() => Torch.Logsumexp(x, new[] { 5 })).Message);
    }

    [Fact]
    public void ReductionsOverSizeOneAndZeroDimTensors()
    {
        using var scope = DisposeScope.Enter();
        var s = Torch.Scalar(2.5f).RequiresGrad_();
        var (v, i) = Torch.Max(s, 0);
        Assert.Equal(2.5f, v.Item());
        Assert.Equal(0L, i.ToLongArray()[0]);
        Assert.Empty(v.Shape);
        v.Backward();
        Assert.Equal(1f, s.Grad!.Item());
        Assert.Equal(1f, F.Softmax(s, 0).Item());
        Assert.Equal(2.5f, Torch.Logsumexp(s, null).Item(), 6);
        var x = Torch.Randn(new[] { 3, 1, 4 }, new Generator(8));
        Assert.All(F.Softmax(x, 1).ToArray(), e => Assert.Equal(1f, e));
        Assert.Equal(new[] { 3, 4 }, Torch.Argmax(x, 1).Shape);
        Assert.All(Torch.Argmax(x, 1).ToLongArray(), e => Assert.Equal(0L, e));
    }
}
