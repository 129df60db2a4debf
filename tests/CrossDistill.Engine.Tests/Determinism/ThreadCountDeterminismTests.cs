using CrossDistill.Engine.Kernels;
using CrossDistill.Engine.Optim;

namespace CrossDistill.Engine.Tests.Determinism;

/// <summary>The kernels split work by size only, so one and two threads give the same bits.</summary>
[Collection(SerialCollection.Name)]
public class ThreadCountDeterminismTests
{
    private static Dictionary<string, uint[]> Compute()
    {
        using var scope = DisposeScope.Enter();
        var g = new Generator(13);
        var results = new Dictionary<string, uint[]>();
        void Keep(string name, Tensor t) => results[name] = t.ToArray().Select(BitConverter.SingleToUInt32Bits).ToArray();

        // Large enough (> 2^15 elements) for every kernel below to split its work.
        var a = Torch.Randn(new[] { 600, 257 }, g).RequiresGrad_();
        var b = Torch.Randn(new[] { 257 }, g);
        var c = Torch.Randn(new[] { 8, 32, 24, 24 }, g).ContiguousChannelsLast();
        Keep("add_broadcast", a + b);
        Keep("mul", a * a);
        Keep("exp", (a * 0.1f).Exp());
        Keep("relu", F.Relu(a));
        Keep("affine_transposed", a.T * 2f + 1f);
        Keep("div_strided", a.T.Slice(1, 0, 600, 2) / (b.Unsqueeze(1) + 3f));
        Keep("sum_all", a.Sum());
        Keep("sum_rows", a.Sum(1));
        Keep("sum_columns", a.Sum(0));
        Keep("mean_transposed", a.T.Mean(1));
        Keep("mean_channels_last", c.Mean(new[] { 0, 2, 3 }));
        Keep("sum_channels_last_c", c.Sum(1));
        Keep("copy_channels_last", c.Contiguous());

        var loss = ((a * b * 0.5f).Exp()).Mean() + (F.Relu(a) * a).Sum(0).Mean();
        loss.Backward();
        Keep("grad", a.Grad!);
        Keep("norm", Torch.Scalar(GradClip.TotalNorm(new[] { a.Grad! })));
        Keep("norm_inf", Torch.Scalar(GradClip.TotalNorm(new[] { a.Grad! }, double.PositiveInfinity)));
        a.Grad!.Dispose();
        a.Grad = null;

        var p = Torch.Randn(new[] { FusedUpdate.ParallelThreshold * 3 + 5 }, g).RequiresGrad_();
        var q = Torch.Randn(new[] { FusedUpdate.ParallelThreshold * 2 + 7 }, g).RequiresGrad_();
        using (var adam = new AdamW(new[] { p }, lr: 0.01, amsgrad: true))
        using (var sgd = new SGD(new[] { q }, lr: 0.1, momentum: 0.9, nesterov: true, weightDecay: 0.01))
        {
            for (int step = 0; step < 3; step++)
            {
                p.Grad = Torch.Randn(p.Shape, g);
                q.Grad = Torch.Randn(q.Shape, g);
                adam.Step();
                sgd.Step();
            }
        }
        Keep("adamw", p);
        Keep("sgd", q);
        p.Grad = q.Grad = null;
        return results;
    }

    [Fact]
    public void OneAndTwoThreadsGiveTheSameBits()
    {
        int saved = Workers.Threads;
        try
        {
            Workers.Threads = 1;
            var one = Compute();
            Workers.Threads = 2;
            var two = Compute();
            Assert.Equal(one.Keys, two.Keys);
            foreach (var (name, bits) in one)
            {
                int first = Enumerable.Range(0, bits.Length).FirstOrDefault(i => bits[i] != two[name][i], -1);
                Assert.True(first < 0, $"{name}: element {first} differs between 1 thread (0x{(first < 0 ? 0 : bits[first]):X8}) and 2 threads (0x{(first < 0 ? 0 : two[name][first]):X8})");
            }
        }
        finally
        {
            Workers.Threads = saved;
        }
    }
}
