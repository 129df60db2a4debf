using CrossDistill.TestSupport;

namespace CrossDistill.Engine.Tests.Determinism;

/// <summary>
/// What a training step holds at its peak: backward frees each intermediate gradient once consumed
/// and each backward function's temporaries once it has run, and the allocation-site diagnostic
/// says which op allocated what was alive.
/// </summary>
[Collection(SerialCollection.Name)]
public class BackwardMemoryTests
{
    private const int Rows = 64, Columns = 256; // one activation: 64 KiB, a bucket size of its own
    private const long ActivationBytes = Rows * Columns * sizeof(float);

    /// <summary>
    /// A chain of <paramref name="depth"/> tanh(h·w) layers, w (1, C) broadcast over the rows: tanh
    /// saves its output and the product its inputs, and the product's backward for w makes a
    /// full-size temporary before summing it to w's shape.
    /// </summary>
    private static Tensor Chain(Tensor x, Tensor[] weights)
    {
        var h = x;
        foreach (var w in weights) h = (h * w).Tanh();
        return h.Sum();
    }

    [Fact]
    public void BackwardHoldsOnlyAFewGradientsBeyondTheSavedActivations()
    {
        const int depth = 24;
        var g = new Generator(5);
        using var outer = DisposeScope.Enter();
        var x = Torch.Randn(new[] { Rows, Columns }, g).RequiresGrad_();
        var weights = Enumerable.Range(0, depth).Select(_ => (Torch.Rand(new[] { 1, Columns }, g) + 0.5f).Detach().RequiresGrad_()).ToArray();
        using (DisposeScope.Enter())
        {
            long start = MemoryPool.BytesInUse;
            var loss = Chain(x, weights);
            long forward = MemoryPool.BytesInUse - start;
            // Each layer leaves its product and its tanh output alive in the scope.
            Assert.True(forward >= 2 * depth * ActivationBytes, $"forward holds {forward} bytes");

            MemoryPool.ResetPeak();
            long before = MemoryPool.BytesInUse;
            loss.Backward();
            long extra = MemoryPool.PeakBytesInUse - before;
            // In flight at any moment: the incoming gradient, the product's two full-size results (for h and,
            // before it is summed, for w), tanh's gradient, and x's private copy at the end; the rest is
            // the weights' small gradients. Keeping every layer's gradients would need 3 × depth activations.
            long bound = 5 * ActivationBytes + 2 * depth * 1024 + 4096;
            Assert.True(extra <= bound, $"backward needed {extra} bytes beyond the forward pass, more than {bound} ({extra / (double)ActivationBytes:F1} activations)");
            Assert.NotNull(x.Grad);
            Assert.All(weights, w => Assert.NotNull(w.Grad));
        }
        Assert.Equal(new[] { Rows, Columns }, x.Grad!.Shape);
        x.Grad.Dispose();
        foreach (var w in weights) w.Grad!.Dispose();
    }

    [Fact]
    public void FreeingGradientsKeepsTheirValues()
    {
        // x feeds several branches, one of them twice: its gradient is a sum over slots that hold the
        // same tensor, and a gradient passed on unchanged (by the sums) must not be freed under a later node.
        using var scope = DisposeScope.Enter();
        var x = Torch.FromArray(new[] { 0.5f, -1.5f, 2f }, 3).RequiresGrad_();
        var a = x * 3f;
        var b = a + a;
        var c = (b + x).Tanh() + a;
        var loss = (c * c).Sum();
        loss.Backward();

        using var noGrad = GradMode.NoGrad();
        var expected = new float[3];
        for (int i = 0; i < 3; i++)
        {
            double xi = x.Span[i], t = Math.Tanh(7 * xi), ci = t + 3 * xi;
            expected[i] = (float)(2 * ci * (7 * (1 - t * t) + 3));
        }
        for (int i = 0; i < 3; i++) Assert.Equal(expected[i], x.Grad!.Span[i], 4);
        x.Grad!.Dispose();
    }

    [Fact]
    public void AnExplicitRootGradientIsLeftToTheCaller()
    {
        using var scope = DisposeScope.Enter();
        var x = Torch.Randn(new[] { 4, 5 }, new Generator(1)).RequiresGrad_();
        var y = (x * 2f).View(20);
        var gradient = Torch.Ones(20);
        y.Backward(gradient);
        Assert.False(gradient.IsDisposed);
        Assert.Equal(2f, x.Grad!.Span[7]);
        x.Grad.Dispose();
    }

    [Fact]
    public void AllocationSitesNameTheOpAndItsCallerAndKeepTheTableAtThePeak()
    {
        using var scope = DisposeScope.Enter();
        var g = new Generator(3);
        var x = Torch.Randn(new[] { Rows, 16 }, g).RequiresGrad_();
        var w = Torch.Randn(new[] { Columns, 16 }, g);
        MemoryPool.ResetPeak();
        AllocationSites.Enabled = true;
        try
        {
            var y = F.Linear(x, w);
            var z = F.Relu(y);
            y.ReleaseData();

            var now = AllocationSites.Current();
            Assert.Contains(now, s => s.Site == $"F.Relu ← {nameof(BackwardMemoryTests)}.{nameof(AllocationSitesNameTheOpAndItsCallerAndKeepTheTableAtThePeak)}"
                                      && s.Bytes == ActivationBytes && s.Blocks == 1);
            Assert.DoesNotContain(now, s => s.Site.StartsWith("F.Linear", StringComparison.Ordinal));
            Assert.Equal(MemoryPool.BytesInUse, now.Sum(s => s.Bytes));

            // The peak was when the linear output and the ReLU's were both alive.
            var atPeak = AllocationSites.AtPeak;
            Assert.Contains(atPeak, s => s.Site.StartsWith("F.Linear ← ", StringComparison.Ordinal) && s.Bytes == ActivationBytes);
            Assert.Contains(atPeak, s => s.Site.StartsWith("F.Relu ← ", StringComparison.Ordinal));
            Assert.Equal(MemoryPool.PeakBytesInUse, atPeak.Sum(s => s.Bytes));

            z.Sum().Backward();
            Assert.Contains(AllocationSites.Current(), s => s.Site.StartsWith("backward ", StringComparison.Ordinal));
            Assert.Contains("total", AllocationSites.Format(AllocationSites.Current()));
        }
        finally
        {
            AllocationSites.Enabled = false;
        }
        x.Grad!.Dispose();
    }

    [Fact]
    public void ReleasedIntermediatesStillPassGradients()
    {
        using var scope = DisposeScope.Enter();
        var x = Torch.Randn(new[] { 3, 4 }, new Generator(9)).RequiresGrad_();
        var w = Torch.Randn(new[] { 5, 4 }, new Generator(10)).RequiresGrad_();
        var projected = F.Linear(x, w);
        var viewed = projected.View(15);
        var copy = viewed.Permute(0).Contiguous() * 1f;
        projected.ReleaseData();
        viewed.ReleaseData();
        Assert.True(projected.IsDisposed);
        Assert.Throws<ObjectDisposedException>(() => projected.Span.ToArray());
        copy.Sum().Backward();
        using var reference = Torch.Ones(3, 5);
        using var noGrad = GradMode.NoGrad();
        using var expectedX = reference.Matmul(w);
        TensorAssert.Close(expectedX, x.Grad!, 1e-6f, 1e-6f);
        x.Grad!.Dispose();
        w.Grad!.Dispose();
    }
}
