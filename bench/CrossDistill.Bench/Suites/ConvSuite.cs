using CrossDistill.Engine;

namespace CrossDistill.Bench.Suites;

/// <summary>
/// Convolution layers of ResNet-18 (CIFAR), MobileNetV2 (32×32) and PAT's prompt block, batch 64:
/// forward, gradient wrt the input and gradient wrt the weight, each timed on its own through the
/// engine's real path (F.Conv2d and the backward it records, with only the one input requiring grad).
/// </summary>
public sealed class ConvSuite : IBenchSuite
{
    public string Name => "conv";

    public string Description => "Conv2d GFLOP/s and ms (forward, grad input, grad weight): ResNet-18 CIFAR, MobileNetV2 32×32 and PAT prompt-block layers, batch 64, channels-last";

    public sealed record ConvCase(string Name, int N, int Cin, int Size, int Cout, int Kernel, int Stride, int Padding,
        int Groups = 1, bool Bias = false, string Input = "channels_last")
    {
        public int OutSize => (Size + 2 * Padding - Kernel) / Stride + 1;

        /// <summary>One pass's multiply-adds ×2: 2·N·Cout·OH·OW·(Cin/groups)·KH·KW; the same for all three passes.</summary>
        public double Flops => 2.0 * N * Cout * OutSize * OutSize * (Cin / Groups) * Kernel * Kernel;

        /// <summary>"NxCinxHxW,oCOUT,kK,sS,pP" with ",gG", ",bias" and ",nchw" suffixes; pytorch_bench.py formats it the same way.</summary>
        public string Shape => $"{N}x{Cin}x{Size}x{Size},o{Cout},k{Kernel},s{Stride},p{Padding}"
            + (Groups > 1 ? $",g{Groups}" : "") + (Bias ? ",bias" : "") + (Input == "nchw" ? ",nchw" : "");
    }

    public sealed record ConvCases(IReadOnlyList<ConvCase> Cases);

    public static IReadOnlyList<ConvCase> Cases => CaseFile.Load<ConvCases>("conv.json").Cases;

    public IReadOnlyList<string> CaseNames => Cases.Select(c => c.Name).ToArray();

    public IEnumerable<BenchResult> Run(BenchOptions options)
    {
        foreach (var convCase in Cases.Where(c => options.Includes(c.Name)))
            foreach (var result in Measure(convCase, options))
                yield return result;
    }

    private IEnumerable<BenchResult> Measure(ConvCase c, BenchOptions options)
    {
        if (c.Input is not ("channels_last" or "nchw"))
            throw new ArgumentException($"bench conv: case {c.Name}: input must be \"channels_last\" or \"nchw\", got \"{c.Input}\".");
        var generator = new Generator(0);
        int[] stride = { c.Stride }, padding = { c.Padding }, dilation = { 1 };
        using var image = Torch.Randn(new[] { c.N, c.Cin, c.Size, c.Size }, generator);
        using var x = c.Input == "nchw" ? image.Clone() : image.ContiguousChannelsLast();
        using var weight = Torch.Normal(new[] { c.Cout, c.Cin / c.Groups, c.Kernel, c.Kernel }, 0f, 0.1f, generator);
        using var bias = c.Bias ? Torch.Randn(new[] { c.Cout }, generator) : null;
        using var gradOutputNchw = Torch.Randn(new[] { c.N, c.Cout, c.OutSize, c.OutSize }, generator);
        // The gradient a channels-last consumer (BN, ReLU, the next conv) sends back.
        using var gradOutput = gradOutputNchw.ContiguousChannelsLast();

        double forward = Timing.MedianSeconds(() =>
        {
            using var noGrad = GradMode.NoGrad();
            F.Conv2d(x, weight, bias, stride, padding, dilation, c.Groups).Dispose();
        }, options);
        yield return Result(c, "forward", forward);
        yield return Result(c, "forward_ms", forward);

        x.RequiresGrad = true;
        double backwardInput = RecordedBackward.MedianSeconds(() => F.Conv2d(x, weight, bias, stride, padding, dilation, c.Groups), gradOutput, options);
        x.RequiresGrad = false;
        yield return Result(c, "backward_input", backwardInput);
        yield return Result(c, "backward_input_ms", backwardInput);

        weight.RequiresGrad = true;
        double backwardWeight = RecordedBackward.MedianSeconds(() => F.Conv2d(x, weight, bias, stride, padding, dilation, c.Groups), gradOutput, options);
        weight.RequiresGrad = false;
        yield return Result(c, "backward_weight", backwardWeight);
        yield return Result(c, "backward_weight_ms", backwardWeight);
    }

    private BenchResult Result(ConvCase c, string metric, double seconds) => metric.EndsWith("_ms", StringComparison.Ordinal)
        ? new BenchResult(Name, c.Name, c.Shape, metric, seconds * 1e3, "ms")
        : new BenchResult(Name, c.Name, c.Shape, metric, c.Flops / seconds / 1e9, "GFLOP/s");
}
