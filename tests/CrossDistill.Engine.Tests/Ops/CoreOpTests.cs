using CrossDistill.TestSupport;

namespace CrossDistill.Engine.Tests.Ops;

public class CoreOpTests
{
    private const string File = "core";

    private static readonly Dictionary<string, OpUnderTest> Ops = new()
    {
        ["add"] = (c, x) => new[] { x[0] + x[1] },
        ["sub"] = (c, x) => new[] { x[0] - x[1] },
        ["mul"] = (c, x) => new[] { x[0] * x[1] },
        ["div"] = (c, x) => new[] { x[0] / x[1] },
        ["exp"] = (c, x) => new[] { x[0].Exp() },
        ["relu"] = (c, x) => new[] { F.Relu(x[0]) },
        ["affine"] = (c, x) => new[] { x[0] * c.Float("a") + c.Float("b") },
        ["reciprocal"] = (c, x) => new[] { Torch.Reciprocal(x[0]) },
        ["sum"] = (c, x) => new[] { Torch.Sum(x[0], c.Ints("dims"), c.Bool("keepdim")) },
        ["mean"] = (c, x) => new[] { Torch.Mean(x[0], c.Ints("dims"), c.Bool("keepdim")) },
        ["reshape"] = (c, x) => new[] { x[0].Reshape(c.Ints("shape")!) },
        ["permute"] = (c, x) => new[] { x[0].Permute(c.Ints("dims")!).Contiguous() },
        ["narrow"] = (c, x) => new[] { x[0].Narrow(c.Int("dim"), c.Int("start"), c.Int("length")) },
        ["slice"] = (c, x) => new[] { x[0].Slice(c.Int("dim"), c.Int("start"), c.Int("end"), c.Int("step")) },
        ["expand"] = (c, x) => new[] { x[0].Expand(c.Ints("shape")!) },
        ["unsqueeze"] = (c, x) => new[] { x[0].Unsqueeze(c.Int("dim")) },
        ["squeeze"] = (c, x) => new[] { x[0].Squeeze(c.Int("dim")) },
        ["select"] = (c, x) => new[] { x[0].Select(c.Int("dim"), c.Int("index")) },
        ["flatten"] = (c, x) => new[] { x[0].Flatten(c.Int("start"), c.Int("end")) },
        ["transpose"] = (c, x) => new[] { x[0].Transpose(c.Int("dim0"), c.Int("dim1")) },
    };

    public static IEnumerable<object[]> Cases => OpFixtures.CaseNames(File);

    [Theory]
    [MemberData(nameof(Cases))]
    public void MatchesPyTorch(string name) => OpCaseRunner.Run(File, name, Ops);

    [Fact]
    public void FiniteDifferencesAgreeWithAutograd()
    {
        var g = new Generator(3);
        var a = Torch.Randn(new[] { 3, 4 }, g).DetachFromScopes();
        var b = Torch.Uniform(new[] { 4 }, 0.5f, 2f, g).DetachFromScopes();
        GradCheck.Check(x => x[0] * x[1] + x[0] / x[1] - x[1], new[] { a, b });
        GradCheck.Check(x => (x[0].Exp() * 0.5f).Sum(1, keepDim: true) + Torch.Reciprocal(x[1]), new[] { a, b });
        GradCheck.Check(x => x[0].Transpose(0, 1).Narrow(0, 1, 2).Mean(new[] { 0 }), new[] { a });
    }
}
