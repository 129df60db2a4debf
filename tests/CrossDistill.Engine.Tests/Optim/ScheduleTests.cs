using System.Text.Json;
using CrossDistill.Engine.Optim;
using CrossDistill.Engine.Optim.Schedules;

namespace CrossDistill.Engine.Tests.Optim;

/// <summary>Learning-rate schedules against PyTorch's MultiStepLR/LambdaLR and timm's cosine formula.</summary>
public class ScheduleTests
{
    public static IEnumerable<object[]> Cases => OptimFixture.Cases("schedule");

    private static double LambdaFactor(int step) => Math.Pow(0.9, step) / (1 + 0.1 * step);

    private static LrScheduler Make(JsonElement spec, Optimizer optimizer) => spec.GetProperty("type").GetString() switch
    {
        "cosine" => new CosineWithWarmup(optimizer, spec.GetProperty("warmup").GetInt32(), spec.GetProperty("total").GetInt32(),
            spec.GetProperty("min_lr").GetDouble(), spec.GetProperty("start_factor").GetDouble(), spec.GetProperty("prefix").GetInt32() != 0),
        "multistep" => new MultiStepLr(optimizer, spec.GetProperty("milestones").EnumerateArray().Select(e => e.GetInt32()), spec.GetProperty("gamma").GetDouble()),
        "lambda" => new LambdaLr(optimizer, LambdaFactor),
        var t => throw new InvalidOperationException($"Unknown schedule '{t}'."),
    };

    private static (SGD Optimizer, Tensor[] Params) NewOptimizer(double[] baseLrs)
    {
        var ps = baseLrs.Select(_ => Torch.Zeros(1).DetachFromScopes().RequiresGrad_()).ToArray();
        return (new SGD(ps.Select((p, i) => new ParamGroup(new[] { p }, lr: baseLrs[i])), lr: 1.0), ps);
    }

    private static void AssertLrs(Tensor expected, int step, LrScheduler scheduler, string what)
    {
        for (int g = 0; g < scheduler.LastLr.Count; g++)
        {
            double e = expected[step, g], actual = scheduler.LastLr[g];
            Assert.True(Math.Abs(actual - e) <= 1e-6 * Math.Abs(e) + 1e-12, $"{what}: group {g} at step {step}: lr {actual}, expected {e}");
            Assert.Equal(actual, scheduler.Optimizer.ParamGroups[g].Lr);
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void MatchesReference(string name)
    {
        var spec = OptimFixture.Spec(name);
        var lrs = OptimFixture.Get($"{name}.lrs");
        var (optimizer, ps) = NewOptimizer(spec.GetProperty("base_lrs").EnumerateArray().Select(e => e.GetDouble()).ToArray());
        using var _ = optimizer;
        var scheduler = Make(spec, optimizer);
        AssertLrs(lrs, 0, scheduler, name);
        for (int step = 1; step < lrs.Shape[0]; step++)
        {
            scheduler.Step();
            Assert.Equal(step, scheduler.LastStep);
            AssertLrs(lrs, step, scheduler, name);
        }
        foreach (var p in ps) p.Dispose();
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void ResumesFromItsStateDict(string name)
    {
        var spec = OptimFixture.Spec(name);
        var lrs = OptimFixture.Get($"{name}.lrs");
        var baseLrs = spec.GetProperty("base_lrs").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        var (first, ps1) = NewOptimizer(baseLrs);
        var scheduler = Make(spec, first);
        for (int i = 0; i < 7; i++) scheduler.Step();
        var saved = scheduler.StateDict();
        var optimizerState = first.StateDict();

        // A fresh run whose optimizer starts from other rates: the saved state must win.
        var (second, ps2) = NewOptimizer(baseLrs.Select(v => v * 3).ToArray());
        second.LoadStateDict(optimizerState);
        var resumed = Make(spec, second);
        resumed.LoadStateDict(saved);
        Assert.Equal(7, resumed.LastStep);
        AssertLrs(lrs, 7, resumed, name + " resumed");
        for (int step = 8; step < lrs.Shape[0]; step++)
        {
            resumed.Step();
            AssertLrs(lrs, step, resumed, name + " resumed");
        }
        first.Dispose();
        second.Dispose();
        foreach (var p in ps1.Concat(ps2)) p.Dispose();
    }

    [Fact]
    public void CosineReachesTheBaseRateWhenWarmUpEndsAndThenTheFloor()
    {
        var (optimizer, ps) = NewOptimizer(new[] { 0.4 });
        var s = new CosineWithWarmup(optimizer, warmupSteps: 4, totalSteps: 10, minLr: 0.01, warmupStartFactor: 0.25);
        Assert.Equal(0.1, s.LastLr[0], 12);
        s.Step(4);
        Assert.Equal(0.4, s.LastLr[0], 12);
        s.Step(7);
        Assert.Equal(0.01 + 0.5 * 0.39, s.LastLr[0], 12);
        s.Step(10);
        Assert.Equal(0.01, s.LastLr[0], 12);
        s.Step(1000);
        Assert.Equal(0.01, s.LastLr[0], 12);
        optimizer.Dispose();
        ps[0].Dispose();
    }

    [Fact]
    public void SchedulersRejectBadArguments()
    {
        var (optimizer, ps) = NewOptimizer(new[] { 0.1 });
        Assert.Contains("no cosine phase", Assert.Throws<ArgumentOutOfRangeException>(() => new CosineWithWarmup(optimizer, 10, 10)).Message);
        Assert.Contains("warmupSteps", Assert.Throws<ArgumentOutOfRangeException>(() => new CosineWithWarmup(optimizer, -1, 10)).Message);
        Assert.Contains("negative", Assert.Throws<ArgumentOutOfRangeException>(() => new MultiStepLr(optimizer, new[] { -2, 3 })).Message);
        var s = new MultiStepLr(optimizer, new[] { 2 });
        Assert.Contains("saved by CosineWithWarmup", Assert.Throws<ArgumentException>(() => s.LoadStateDict(new CosineWithWarmup(optimizer, 0, 5).StateDict())).Message);
        optimizer.Dispose();
        ps[0].Dispose();
    }

    [Fact]
    public void ASecondSchedulerKeepsTheInitialRates()
    {
        // As PyTorch's setdefault('initial_lr'): the base rate is the one before any scheduler ran.
        var (optimizer, ps) = NewOptimizer(new[] { 0.2 });
        var first = new MultiStepLr(optimizer, new[] { 1 }, gamma: 0.5);
        first.Step();
        Assert.Equal(0.1, optimizer.ParamGroups[0].Lr, 15);
        var second = new LambdaLr(optimizer, _ => 1.0);
        Assert.Equal(0.2, second.BaseLrs[0]);
        Assert.Equal(0.2, optimizer.ParamGroups[0].Lr);
        optimizer.Dispose();
        ps[0].Dispose();
    }
}
