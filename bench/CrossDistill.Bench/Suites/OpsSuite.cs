using CrossDistill.Engine;
using CrossDistill.Engine.Optim;
using CrossDistill.Models;

namespace CrossDistill.Bench.Suites;

/// <summary>
/// The memory-bound ops a training step of the train-step models spends time in (elementwise
/// arithmetic, activations, normalisation, softmax, the loss, reductions, optimizer updates), in
/// GB/s and ms. Forward passes run without recording; a backward pass is the op's recorded backward
/// alone (<see cref="RecordedBackward"/>), computing every gradient a training step needs.
/// <para>
/// GB/s counts the compulsory traffic: every tensor the pass must read, read once, and every tensor
/// it writes, written once, 4 bytes a float (8 an int64 label). Per-channel or per-feature vectors
/// (norm weights, biases, statistics) are left out: they are under 0.2 % of any case here.
/// An implementation that reads an input twice (two-pass statistics, a softmax's max then sum) moves
/// more than this, so 1e9·bytes/second is a lower bound on what the memory system delivered.
/// <list type="bullet">
/// <item>add, mul: x + other + output;</item>
/// <item>relu, gelu, softmax, batch_norm, layer_norm: forward x + y = 2·N floats; backward the
/// upstream gradient, the saved tensor (x, or y for relu and softmax) and dx = 3·N floats;</item>
/// <item>cross_entropy forward + backward: the logits read and their gradient written (2·N floats)
/// plus the int64 labels;</item>
/// <item>sum: x + the reduced output;</item>
/// <item>AdamW: parameter, gradient, exp_avg and exp_avg_sq read, parameter and both moments
/// written = 7 floats a parameter; SGD with momentum: parameter, gradient, momentum buffer read,
/// parameter and buffer written = 5 floats a parameter.</item>
/// </list>
/// pytorch_bench.py counts the same bytes.
/// </para>
/// </summary>
public sealed class OpsSuite : IBenchSuite
{
    public string Name => "ops";

    public string Description => "Memory-bound ops GB/s and ms: add/mul, relu, gelu, batch_norm, layer_norm, softmax, cross_entropy, sum, AdamW and SGD steps, on train-step model shapes";

    public sealed record OpCase(string Name, string Op, IReadOnlyList<string> Passes, int[]? Shape = null, int[]? Other = null,
        string Layout = "contiguous", int Dim = -1, string? Model = null, int Classes = 100, int ImageSize = 32);

    public sealed record OpCases(IReadOnlyList<OpCase> Cases);

    public static IReadOnlyList<OpCase> Cases => CaseFile.Load<OpCases>("ops.json").Cases;

    public IReadOnlyList<string> CaseNames => Cases.Select(c => c.Name).ToArray();

    public IEnumerable<BenchResult> Run(BenchOptions options)
    {
        foreach (var opCase in Cases.Where(c => options.Includes(c.Name)))
            foreach (var result in opCase.Op is "adamw" or "sgd" ? MeasureOptimizer(opCase, options) : MeasureOp(opCase, options))
                yield return result;
    }

    private static string FormatShape(int[] shape) => string.Join("x", shape);

    /// <summary>"AxBxC" with "+DxE" for the other operand, ",cl" for channels-last and ",dimD" for a reduction dim; pytorch_bench.py formats it the same way.</summary>
    private static string ShapeOf(OpCase c) => FormatShape(c.Shape!) + (c.Other is null ? "" : "+" + FormatShape(c.Other))
        + (c.Layout == "channels_last" ? ",cl" : "") + (c.Op is "softmax" or "sum" ? $",dim{c.Dim}" : "");

    private static long Numel(IEnumerable<int> shape) => shape.Aggregate(1L, (a, b) => a * b);

    private IEnumerable<BenchResult> MeasureOp(OpCase c, BenchOptions options)
    {
        if (c.Shape is null) throw new ArgumentException($"bench ops: case {c.Name} ({c.Op}) needs a shape.");
        if (c.Layout is not ("contiguous" or "channels_last"))
            throw new ArgumentException($"bench ops: case {c.Name}: layout must be \"contiguous\" or \"channels_last\", got \"{c.Layout}\".");
        var generator = new Generator(0);
        Tensor Input(int[] shape)
        {
            var dense = Torch.Randn(shape, generator);
            if (c.Layout != "channels_last" || shape.Length != 4 || shape.Count(d => d > 1) < 2) return dense;
            using (dense) return dense.ContiguousChannelsLast();
        }

        long n = Numel(c.Shape);
        int channels = c.Shape.Length > 1 ? c.Shape[1] : 1, features = c.Shape[^1];
        using var x = Input(c.Shape);
        using var other = c.Other is null ? null : Input(c.Other);
        using var normWeight = Torch.Normal(new[] { c.Op == "layer_norm" ? features : channels }, 1f, 0.1f, generator);
        using var normBias = Torch.Normal(new[] { c.Op == "layer_norm" ? features : channels }, 0f, 0.1f, generator);
        using var runningMean = Torch.Zeros(channels);
        using var runningVar = Torch.Ones(channels);
        using var labels = Torch.RandInt(0, features, new[] { c.Shape[0] }, generator);

        Func<Tensor> forward = c.Op switch
        {
            "add" => () => Torch.Add(x, other!),
            "mul" => () => Torch.Mul(x, other!),
            "relu" => () => F.Relu(x),
            "gelu" => () => F.Gelu(x),
            "batch_norm" => () => F.BatchNorm(x, runningMean, runningVar, normWeight, normBias, training: true),
            "layer_norm" => () => F.LayerNorm(x, new[] { features }, normWeight, normBias, 1e-6f),
            "softmax" => () => F.Softmax(x, c.Dim),
            "cross_entropy" => () => F.CrossEntropy(x, labels),
            "sum" => () => Torch.Sum(x, c.Dim),
            _ => throw new ArgumentException($"bench ops: case {c.Name}: unknown op \"{c.Op}\"."),
        };
        Tensor[] trainable = c.Op is "batch_norm" or "layer_norm" ? new[] { x, normWeight, normBias } : new[] { x };

        foreach (var pass in c.Passes)
        {
            double seconds, bytes;
            switch (pass)
            {
                case "forward":
                    seconds = Timing.MedianSeconds(() =>
                    {
                        using var noGrad = GradMode.NoGrad();
                        forward().Dispose();
                    }, options);
                    bytes = 4.0 * (c.Op switch
                    {
                        "add" or "mul" => n + Numel(c.Other!) + n,
                        "sum" => n + n / c.Shape[NormalizeDim(c.Dim, c.Shape.Length)],
                        _ => 2 * n,
                    });
                    break;
                case "backward":
                {
                    using var probe = forward();
                    using var gradOutputDense = Torch.Randn((int[])probe.Shape.Clone(), generator);
                    using var gradOutput = probe.IsChannelsLast && probe.Rank == 4 ? gradOutputDense.ContiguousChannelsLast() : gradOutputDense.Clone();
                    foreach (var t in trainable) t.RequiresGrad = true;
                    try { seconds = RecordedBackward.MedianSeconds(forward, gradOutput, options); }
                    finally { foreach (var t in trainable) t.RequiresGrad = false; }
                    bytes = 4.0 * 3 * n;
                    break;
                }
                case "forward_backward":
                {
                    using var one = Torch.Ones();
                    x.RequiresGrad = true;
                    try
                    {
                        seconds = Timing.MedianSeconds(() =>
                        {
                            using var scope = DisposeScope.Enter();
                            var loss = forward();
                            using var noGrad = GradMode.NoGrad();
                            loss.GradFn!.Apply(new[] { one });
                            loss.GradFn!.Release();
                        }, options);
                    }
                    finally { x.RequiresGrad = false; }
                    bytes = 4.0 * 2 * n + 8.0 * c.Shape[0];
                    break;
                }
                default:
                    throw new ArgumentException($"bench ops: case {c.Name}: unknown pass \"{pass}\".");
            }
            yield return new BenchResult(Name, c.Name, ShapeOf(c), pass, bytes / seconds / 1e9, "GB/s");
            yield return new BenchResult(Name, c.Name, ShapeOf(c), pass + "_ms", seconds * 1e3, "ms");
        }
    }

    private static int NormalizeDim(int dim, int rank) => dim < 0 ? dim + rank : dim;

    private IEnumerable<BenchResult> MeasureOptimizer(OpCase c, BenchOptions options)
    {
        if (c.Model is null) throw new ArgumentException($"bench ops: case {c.Name} ({c.Op}) needs a model whose parameters it updates.");
        Torch.ManualSeed(0);
        using var model = ModelZoo.Create(c.Model, new ModelConfig { NumClasses = c.Classes, ImageSize = c.ImageSize });
        var parameters = model.Parameters().ToArray();
        var generator = new Generator(1);
        foreach (var p in parameters) p.Grad = Torch.Normal((int[])p.Shape.Clone(), 0f, 1e-3f, generator);
        using Optimizer optimizer = c.Op == "adamw"
            ? new AdamW(parameters, lr: 1e-3, weightDecay: 0.05)
            : new SGD(parameters, lr: 0.01, momentum: 0.9);
        long count = parameters.Sum(p => (long)p.Numel);
        string shape = $"{count}p,{parameters.Length}t";
        try
        {
            // The first step creates the state; the warm-up takes it, so the timed steps are steady-state ones.
            double seconds = Timing.MedianSeconds(optimizer.Step, options);
            double bytes = 4.0 * (c.Op == "adamw" ? 7 : 5) * count;
            yield return new BenchResult(Name, c.Name, shape, "step", bytes / seconds / 1e9, "GB/s");
            yield return new BenchResult(Name, c.Name, shape, "step_ms", seconds * 1e3, "ms");
        }
        finally
        {
            optimizer.ZeroGrad();
        }
    }
}
