using CrossDistill.Engine.Nn;
using CrossDistill.Models.Cnn;
using CrossDistill.Models.Transformers;

namespace CrossDistill.Models.Tests;

/// <summary>
/// A training step holds what backward needs and little more: a transformer block keeps only the
/// activations its backward functions read (as PyTorch's autograd saves them), not the projections,
/// head reshapes and branch outputs that were consumed on the way, and backward frees gradients as it goes.
/// </summary>
[Collection(MemoryCounterCollection.Name)]
public class TrainingStepMemoryTests
{
    // Every tensor below is a power of two bytes or 1.5× one, so the pool's buckets fit it exactly.
    private const int Batch = 4, Tokens = 32, Dim = 32, Heads = 2, Hidden = 4 * Dim;
    private const long Activation = Batch * Tokens * Dim * sizeof(float);

    [Fact]
    public void AnEncoderBlockKeepsOnlyWhatItsBackwardReads()
    {
        var g = new Generator(4);
        using var block = new EncoderBlock(Dim, Heads, Hidden, dropRate: 0f, dropPathRate: 0f, WeightNaming.Timm);
        foreach (var p in block.Parameters()) Init.Normal_(p, 0, 0.2, g);
        block.Train();
        var x = Torch.Randn(new[] { Batch, Tokens, Dim }, g).DetachFromScopes();
        var gradOutput = Torch.Randn(new[] { Batch, Tokens, Dim }, g).DetachFromScopes();
        try
        {
            using var scope = DisposeScope.Enter();
            long start = MemoryPool.BytesInUse;
            MemoryPool.ResetPeak();
            var y = block.Forward(x);
            long forward = MemoryPool.BytesInUse - start;

            long rowStats = 2 * Batch * Tokens * sizeof(float);               // LayerNorm's mean and 1/std
            long probabilities = (long)Batch * Heads * Tokens * Tokens * sizeof(float);
            long saved =
                (Activation + rowStats)                                      // norm1's output (read by qkv) and its statistics
                + 3 * Activation + probabilities                             // the q/k/v head copy and the attention probabilities
                + Activation + Activation                                    // the merged heads (read by proj) and the first residual sum (read by norm2)
                + (Activation + rowStats)                                    // norm2's output (read by fc1) and its statistics
                + 2 * (Hidden / Dim) * Activation                            // fc1's output (read by GELU) and GELU's (read by fc2)
                + Activation;                                                // the block's output
            Assert.True(forward <= saved, $"after the forward pass the block holds {forward / 1024} KiB; what backward reads is {saved / 1024} KiB");

            (y * gradOutput).Sum().Backward();
            long peak = MemoryPool.PeakBytesInUse - start;
            // Backward adds the parameters' gradients and a few activation-sized gradients in flight
            // (fc2's input gradient is Hidden wide, and fc1's weight gradient needs its full-size input gradient).
            long parameterGradients = block.Parameters().Sum(p => (long)p.Numel * sizeof(float));
            long inFlight = 2 * (Hidden / Dim) * Activation;
            Assert.True(peak <= saved + (long)(1.25 * parameterGradients) + inFlight,
                $"the step peaked at {peak / 1024} KiB: saved activations {saved / 1024} KiB, parameter gradients {parameterGradients / 1024} KiB, in flight {inFlight / 1024} KiB");
            Assert.All(block.Parameters(), p => Assert.NotNull(p.Grad));
        }
        finally
        {
            block.ZeroGrad();
            x.Dispose();
            gradOutput.Dispose();
        }
    }

    [Fact]
    public void AResidualConvBlockKeepsOnlyWhatItsBackwardReads()
    {
        const int channels = 16, side = 16;
        const long map = Batch * channels * side * side * sizeof(float);   // one feature map: 64 KiB
        var g = new Generator(6);
        using var block = new BasicBlock(channels, channels, stride: 1);
        block.Train();
        var x = Torch.Randn(new[] { Batch, channels, side, side }, g).ContiguousChannelsLast().DetachFromScopes();
        var gradOutput = Torch.Randn(new[] { Batch, channels, side, side }, g).DetachFromScopes();
        try
        {
            using var scope = DisposeScope.Enter();
            long start = MemoryPool.BytesInUse;
            MemoryPool.ResetPeak();
            AllocationSites.Enabled = true;
            var y = block.Forward(x);
            long forward = MemoryPool.BytesInUse - start;
            string sites = AllocationSites.Format(AllocationSites.Current());

            // Each convolution's output (read by batch norm) and each ReLU's (read by ReLU and by the
            // next convolution); batch norm's and the convolutions' small saved state fit in the slack.
            long saved = 4 * map;
            long small = 32 * 1024;
            Assert.True(forward <= saved + small, $"after the forward pass the block holds {forward / 1024} KiB; what backward reads is {saved / 1024} KiB + {small / 1024} KiB\n{sites}");

            (y * gradOutput).Sum().Backward();
            long peak = MemoryPool.PeakBytesInUse - start;
            long parameterGradients = block.Parameters().Sum(p => (long)p.Numel * sizeof(float));
            // The loss's product with gradOutput, two gradients in flight, and a convolution backward's
            // two unfolded (im2col) buffers of batch·H·W × channels·9, at the pool's bucket size.
            long columns = (long)Batch * side * side * channels * 9 * sizeof(float);
            long inFlight = 3 * map + (long)(2 * 1.25 * columns);
            string peakSites = AllocationSites.Format(AllocationSites.AtPeak);
            Assert.True(peak <= saved + small + (long)(1.25 * parameterGradients) + inFlight,
                $"the step peaked at {peak / 1024} KiB: saved activations {saved / 1024} KiB, parameter gradients {parameterGradients / 1024} KiB, in flight {inFlight / 1024} KiB\n{peakSites}");
        }
        finally
        {
            AllocationSites.Enabled = false;
            block.ZeroGrad();
            x.Dispose();
            gradOutput.Dispose();
        }
    }
}
