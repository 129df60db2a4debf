using CrossDistill.TestSupport;

namespace CrossDistill.Engine.Tests.Ops;

public class MathOpTests
{
    private const string File = "math";

    private static float? OptionalFloat(OpCase c, string key) => c.Has(key) ? c.Float(key) : null;

    private static readonly Dictionary<string, OpUnderTest> Ops = new()
    {
        ["sqrt"] = (c, x) => new[] { x[0].Sqrt() },
        ["rsqrt"] = (c, x) => new[] { x[0].Rsqrt() },
        ["log"] = (c, x) => new[] { x[0].Log() },
        ["abs"] = (c, x) => new[] { x[0].Abs() },
        ["sign"] = (c, x) => new[] { x[0].Sign() },
        ["erf"] = (c, x) => new[] { x[0].Erf() },
        ["pow_scalar"] = (c, x) => new[] { x[0].Pow(c.Float("exponent")) },
        ["pow_tensor"] = (c, x) => new[] { Torch.Pow(x[0], x[1]) },
        ["maximum"] = (c, x) => new[] { Torch.Maximum(x[0], x[1]) },
        ["minimum"] = (c, x) => new[] { Torch.Minimum(x[0], x[1]) },
        ["where"] = (c, x) => new[] { Torch.Where(x[0], x[1], x[2]) },
        ["clamp"] = (c, x) => new[] { Torch.Clamp(x[0], OptionalFloat(c, "min"), OptionalFloat(c, "max")) },
        ["gt"] = (c, x) => new[] { Torch.Gt(x[0], x[1]) },
        ["ge"] = (c, x) => new[] { Torch.Ge(x[0], x[1]) },
        ["lt"] = (c, x) => new[] { Torch.Lt(x[0], x[1]) },
        ["le"] = (c, x) => new[] { Torch.Le(x[0], x[1]) },
        ["eq"] = (c, x) => new[] { Torch.Eq(x[0], x[1]) },
        ["gt_scalar"] = (c, x) => new[] { Torch.Gt(x[0], c.Float("value")) },
        ["ge_scalar"] = (c, x) => new[] { Torch.Ge(x[0], c.Float("value")) },
        ["lt_scalar"] = (c, x) => new[] { Torch.Lt(x[0], c.Float("value")) },
        ["le_scalar"] = (c, x) => new[] { Torch.Le(x[0], c.Float("value")) },
        ["eq_scalar"] = (c, x) => new[] { Torch.Eq(x[0], c.Float("value")) },
        ["relu6"] = (c, x) => new[] { F.Relu6(x[0]) },
        ["leaky_relu"] = (c, x) => new[] { F.LeakyRelu(x[0], c.Float("slope", 0.01f)) },
        ["gelu"] = (c, x) => new[] { F.Gelu(x[0], c.Str("approximate") ?? "none") },
        ["silu"] = (c, x) => new[] { F.Silu(x[0]) },
        ["sigmoid"] = (c, x) => new[] { F.Sigmoid(x[0]) },
        ["tanh"] = (c, x) => new[] { F.Tanh(x[0]) },
        ["hardswish"] = (c, x) => new[] { F.Hardswish(x[0]) },
        ["hardsigmoid"] = (c, x) => new[] { F.Hardsigmoid(x[0]) },
        ["softplus"] = (c, x) => new[] { F.Softplus(x[0], c.Float("beta", 1f), c.Float("threshold", 20f)) },
        ["elu"] = (c, x) => new[] { F.Elu(x[0], c.Float("alpha", 1f)) },
        ["var"] = (c, x) => new[] { Torch.Var(x[0], c.Ints("dims"), c.Int("correction", 1), c.Bool("keepdim")) },
        ["std"] = (c, x) => new[] { Torch.Std(x[0], c.Ints("dims"), c.Int("correction", 1), c.Bool("keepdim")) },
        ["max_all"] = (c, x) => new[] { Torch.Max(x[0]) },
        ["min_all"] = (c, x) => new[] { Torch.Min(x[0]) },
        ["max_dim"] = (c, x) => { var (v, i) = Torch.Max(x[0], c.Int("dim"), c.Bool("keepdim")); return new[] { v, i }; },
        ["min_dim"] = (c, x) => { var (v, i) = Torch.Min(x[0], c.Int("dim"), c.Bool("keepdim")); return new[] { v, i }; },
        ["argmax"] = (c, x) => new[] { Torch.Argmax(x[0], c.Int("dim"), c.Bool("keepdim")) },
        ["argmin"] = (c, x) => new[] { Torch.Argmin(x[0], c.Int("dim"), c.Bool("keepdim")) },
        ["argmax_flat"] = (c, x) => new[] { Torch.Argmax(x[0]) },
        ["argmin_flat"] = (c, x) => new[] { Torch.Argmin(x[0]) },
        ["logsumexp"] = (c, x) => new[] { Torch.Logsumexp(x[0], c.Ints("dims"), c.Bool("keepdim")) },
        ["softmax"] = (c, x) => new[] { F.Softmax(x[0], c.Int("dim")) },
        ["log_softmax"] = (c, x) => new[] { F.LogSoftmax(x[0], c.Int("dim")) },
    };

    public static IEnumerable<object[]> Cases => OpFixtures.CaseNames(File);

    [Theory]
    [MemberData(nameof(Cases))]
    public void MatchesPyTorch(string name) => OpCaseRunner.Run(File, name, Ops);

    private static Tensor Leaf(Tensor t) => t.DetachFromScopes();

    [Fact]
    public void ElementwiseGradientsAgreeWithFiniteDifferences()
    {
        var g = new Generator(11);
        var pos = Leaf(Torch.Uniform(new[] { 3, 7 }, 0.5f, 2.5f, g));
        var any = Leaf(Torch.Uniform(new[] { 3, 7 }, -2f, 2f, g));
        var exp = Leaf(Torch.Uniform(new[] { 7 }, -1.5f, 1.5f, g));
        GradCheck.Check(x => x[0].Sqrt() + x[0].Rsqrt() + x[0].Log(), new[] { pos });
        GradCheck.Check(x => x[0].Pow(2.5f) + x[0].Pow(-1.3f) + x[0].Pow(3f), new[] { pos });
        GradCheck.Check(x => Torch.Pow(x[0], x[1]), new[] { pos, exp });
        GradCheck.Check(x => x[0].Erf() + x[0].Abs() * 0.5f, new[] { any });
        GradCheck.Check(x => Torch.Maximum(x[0], x[1]) - Torch.Minimum(x[0], x[1]) * 2f, new[] { any, exp });
        GradCheck.Check(x => Torch.Where(Torch.Gt(x[0], 0f), x[0] * x[1], x[1]), new[] { any, exp });
        GradCheck.Check(x => Torch.Clamp(x[0], -1.2f, 0.9f) + Torch.Clamp(x[0], null, 0.3f), new[] { any });
    }

    [Fact]
    public void ActivationGradientsAgreeWithFiniteDifferences()
    {
        var g = new Generator(12);
        // Kinks of the piecewise activations sit at 0, ±3 and 6; keep the samples clear of them.
        var x = Leaf(Torch.FromArray(new[] { -7.3f, -4.1f, -2.2f, -1.1f, -0.37f, 0.21f, 0.8f, 1.7f, 2.6f, 3.9f, 5.2f, 7.7f }, 12));
        GradCheck.Check(t => F.Relu6(t[0]) + F.LeakyRelu(t[0], 0.2f) + F.Hardswish(t[0]) + F.Hardsigmoid(t[0]), new[] { x });
        GradCheck.Check(t => F.Gelu(t[0]) + F.Gelu(t[0], "tanh") * 0.5f, new[] { x });
        GradCheck.Check(t => F.Silu(t[0]) + F.Sigmoid(t[0]) + F.Tanh(t[0]), new[] { x });
        GradCheck.Check(t => F.Softplus(t[0]) + F.Softplus(t[0], 2f, 5f) + F.Elu(t[0], 0.7f), new[] { x });
        var y = Leaf(Torch.Randn(new[] { 2, 3, 5 }, g));
        GradCheck.Check(t => F.Gelu(t[0]), new[] { y });
    }

    [Fact]
    public void ReductionGradientsAgreeWithFiniteDifferences()
    {
        var g = new Generator(13);
        var x = Leaf(Torch.Randn(new[] { 3, 4, 5 }, g));
        GradCheck.Check(t => Torch.Var(t[0], new[] { 1 }) + Torch.Std(t[0], new[] { 1 }, correction: 0), new[] { x });
        GradCheck.Check(t => Torch.Std(t[0], new[] { 0, 2 }, keepDim: true), new[] { x });
        GradCheck.Check(t => Torch.Var(t[0]) * Torch.Std(t[0]), new[] { x });
        GradCheck.Check(t => Torch.Logsumexp(t[0], new[] { 2 }) + Torch.Logsumexp(t[0], new[] { 0, 1 }, keepDim: true).Sum(), new[] { x });
        // Selection is only differentiable away from ties: values at least 0.1 apart, shuffled.
        var spaced = Leaf(Torch.FromArray(g.Permutation(60).Select(i => i * 0.1f - 3f).ToArray(), 3, 4, 5));
        GradCheck.Check(t => Torch.Max(t[0], 1).Values + Torch.Min(t[0], -2, keepDim: true).Values.Squeeze(1), new[] { spaced });
        GradCheck.Check(t => Torch.Max(t[0], 2, keepDim: true).Values * Torch.Min(t[0], 0, keepDim: true).Values, new[] { spaced });
        GradCheck.Check(t => Torch.Max(t[0]) - Torch.Min(t[0]), new[] { spaced });
        GradCheck.Check(t => F.Softmax(t[0], 1) + F.LogSoftmax(t[0], -1), new[] { x });
        GradCheck.Check(t => F.Softmax(t[0], 0) * F.LogSoftmax(t[0], 2), new[] { x });
    }
}
