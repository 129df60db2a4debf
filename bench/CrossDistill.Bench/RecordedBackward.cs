using CrossDistill.Engine;

namespace CrossDistill.Bench;

/// <summary>
/// Times the backward an op recorded, on its own: each call runs the forward untimed (a node frees
/// what it saved when it runs, so every backward needs a fresh graph), then times the node's
/// backward with a fixed upstream gradient, as the PyTorch peer times autograd.grad on a retained
/// graph. Going through the node rather than Tensor.Backward() leaves out the copy into a leaf's
/// .grad, which the peer's autograd.grad does not make either.
/// </summary>
internal static class RecordedBackward
{
    /// <summary>
    /// Median seconds of the backward of the single op <paramref name="forward"/> records, computing
    /// the gradients of the inputs that require grad (the others are skipped, as PyTorch skips them).
    /// </summary>
    public static double MedianSeconds(Func<Tensor> forward, Tensor gradOutput, BenchOptions options)
    {
        DisposeScope? scope = null;
        Tensor? output = null;
        return Timing.MedianSeconds(
            setup: () =>
            {
                scope = DisposeScope.Enter();
                output = forward();
                var node = output.GradFn ?? throw new InvalidOperationException("bench: the forward recorded no backward (no input requires grad).");
                // The timed node must be the whole graph: a backward that hid further nodes behind it would be under-counted.
                foreach (var input in node.Inputs)
                    if (input.RequiresGrad && input.GradFn is not null)
                        throw new InvalidOperationException($"bench: {node.Name} has a recorded input ({input.GradFn.Name}); time a single op.");
                if (!gradOutput.Shape.AsSpan().SequenceEqual(output.Shape))
                    throw new InvalidOperationException("bench: the upstream gradient's shape differs from the output's.");
            },
            timed: () =>
            {
                using var noGrad = GradMode.NoGrad();
                var grads = output!.GradFn!.Apply(new[] { gradOutput });
                // A backward may hand the upstream gradient itself on (add does); that one is not ours to free.
                foreach (var g in grads)
                    if (g is not null && !ReferenceEquals(g, gradOutput)) g.Dispose();
            },
            teardown: () =>
            {
                output!.GradFn?.Release();
                scope!.Dispose();
                scope = null;
                output = null;
            },
            options);
    }
}
