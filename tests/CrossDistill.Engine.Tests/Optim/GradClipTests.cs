using CrossDistill.Engine.Optim;
using CrossDistill.TestSupport;

namespace CrossDistill.Engine.Tests.Optim;

/// <summary>ClipGradNorm against torch.nn.utils.clip_grad_norm_.</summary>
public class GradClipTests
{
    public static IEnumerable<object[]> Cases => OptimFixture.Cases("clip");

    [Theory]
    [MemberData(nameof(Cases))]
    public void MatchesPyTorch(string name)
    {
        var spec = OptimFixture.Spec(name);
        var normProperty = spec.GetProperty("norm_type");
        double normType = normProperty.ValueKind == System.Text.Json.JsonValueKind.String ? double.PositiveInfinity : normProperty.GetDouble();
        var ps = Enumerable.Range(0, OptimFixture.ParamCount).Select(i =>
        {
            var p = Torch.ZerosLike(OptimFixture.Get($"init.p{i}")).DetachFromScopes().RequiresGrad_();
            if (OptimFixture.Has($"{name}.grad.p{i}")) p.Grad = OptimFixture.Get($"{name}.grad.p{i}").Clone().DetachFromScopes();
            return p;
        }).ToArray();
        float total = GradClip.ClipGradNorm(ps, spec.GetProperty("max_norm").GetDouble(), normType);
        float expected = OptimFixture.Get($"{name}.total").Item();
        Assert.True(Math.Abs(total - expected) <= 1e-5 * expected, $"{name}: total norm {total}, expected {expected}");
        for (int i = 0; i < ps.Length; i++)
        {
            if (OptimFixture.Has($"{name}.clipped.p{i}")) TensorAssert.Close(OptimFixture.Get($"{name}.clipped.p{i}"), ps[i].Grad!, what: $"{name}: p{i}");
            else Assert.Null(ps[i].Grad);
        }
        OptimFixture.DisposeAll(ps);
    }

    [Fact]
    public void LargeNonContiguousGradientsMatchADoubleReference()
    {
        // Big enough for several blocks and both worker threads; the gradient is a transposed view.
        using var scope = DisposeScope.Enter();
        var g = new Generator(5);
        var p = Torch.Zeros(300, 257).RequiresGrad_();
        var q = Torch.Zeros(70001).RequiresGrad_();
        p.Grad = Torch.Randn(new[] { 257, 300 }, g).T;
        q.Grad = Torch.Randn(new[] { 70001 }, g);
        double sum = p.Grad.ToArray().Concat(q.Grad.ToArray()).Sum(v => (double)v * v);
        float maxAbs = p.Grad.ToArray().Concat(q.Grad.ToArray()).Max(MathF.Abs);
        Assert.Equal(Math.Sqrt(sum), GradClip.TotalNorm(new[] { p.Grad, q.Grad }), Math.Sqrt(sum) * 1e-5);
        Assert.Equal(maxAbs, GradClip.TotalNorm(new[] { p.Grad, q.Grad }, double.PositiveInfinity));

        var before = p.Grad.ToArray();
        float total = GradClip.ClipGradNorm(new[] { p, q }, maxNorm: 2.0);
        float coef = 2f / (total + 1e-6f);
        TensorAssert.Close(before.Select(v => v * coef).ToArray(), p.Grad, what: "clipped transposed gradient");
        Assert.Equal(2.0, GradClip.TotalNorm(new[] { p.Grad, q.Grad }), 2e-5);
    }

    [Fact]
    public void NoGradientsGiveZeroAndNonFiniteNormsCanBeRefused()
    {
        using var scope = DisposeScope.Enter();
        var p = Torch.Zeros(3).RequiresGrad_();
        Assert.Equal(0f, GradClip.ClipGradNorm(new[] { p }, 1.0));
        p.Grad = Torch.FromArray(new[] { 1f, float.PositiveInfinity, 2f });
        var e = Assert.Throws<InvalidOperationException>(() => GradClip.ClipGradNorm(new[] { p }, 1.0, errorIfNonfinite: true));
        Assert.Contains("non-finite", e.Message);
        Assert.Throws<ArgumentException>(() => GradClip.ClipGradNorm(new[] { p }, 1.0, normType: 0));
        p.Grad.Dispose();
        p.Grad = null;
    }
}
