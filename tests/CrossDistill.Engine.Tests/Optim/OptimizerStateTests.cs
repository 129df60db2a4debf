using CrossDistill.Engine.IO;
using CrossDistill.Engine.Nn;
using CrossDistill.Engine.Optim;
using CrossDistill.TestSupport;

namespace CrossDistill.Engine.Tests.Optim;

/// <summary>Optimizer state dicts through a safetensors file, resuming mid-trajectory, and their error messages.</summary>
public class OptimizerStateTests
{
    [Theory]
    [InlineData("adamw_amsgrad")]
    [InlineData("adamw_groups")]
    [InlineData("adamw_frozen")]
    [InlineData("sgd_groups")]
    [InlineData("sgd_dampening")]
    public void ResumingFromACheckpointContinuesTheTrajectory(string name)
    {
        var spec = OptimFixture.Spec(name);
        var path = Path.Combine(Path.GetTempPath(), $"crossdistill-optim-{name}-{Environment.ProcessId}.safetensors");
        var ps = OptimFixture.NewParameters();
        var first = OptimFixture.NewOptimizer(spec, ps);
        for (int step = 0; step < 10; step++)
        {
            first.ZeroGrad();
            OptimFixture.SetStoredGradients(name, ps, step);
            first.Step();
        }
        var saved = first.StateDict();
        Safetensors.Save(path, saved.Tensors, saved.Metadata);
        first.Dispose();

        // A new process would rebuild the parameters from the model checkpoint and the optimizer with
        // other defaults; the loaded groups must bring back the saved hyper-parameters.
        var resumed = ps.Select(p => p.Detach().Clone().DetachFromScopes().RequiresGrad_()).ToArray();
        OptimFixture.DisposeAll(ps);
        var groups = spec.GetProperty("groups").EnumerateArray().Select(g => new ParamGroup(g.GetProperty("params").EnumerateArray().Select(i => resumed[i.GetInt32()])));
        using (var second = spec.GetProperty("opt").GetString() == "sgd" ? (Optimizer)new SGD(groups, lr: 123, momentum: 0.5) : new AdamW(groups, lr: 123))
            Continue(name, path, second, resumed);
        OptimFixture.DisposeAll(resumed);
        File.Delete(path);
    }

    private static void Continue(string name, string path, Optimizer optimizer, Tensor[] ps)
    {
        var tensors = Safetensors.Load(path, out var metadata);
        optimizer.LoadStateDict(new OptimizerState(tensors, metadata), path);
        foreach (var t in tensors.Values) t.Dispose();
        for (int step = 10; step < OptimFixture.Steps; step++)
        {
            optimizer.ZeroGrad();
            OptimFixture.SetStoredGradients(name, ps, step);
            optimizer.Step();
        }
        optimizer.ZeroGrad();
        for (int i = 0; i < ps.Length; i++)
            TensorAssert.Close(OptimFixture.Get($"{name}.traj.p{i}").Select(0, OptimFixture.Steps - 1), ps[i], what: $"{name}: resumed p{i}");
    }

    [Fact]
    public void StateDictUsesPyTorchsIndicesAndNames()
    {
        using var scope = DisposeScope.Enter();
        var a = Torch.Ones(2, 3).RequiresGrad_();
        var b = Torch.Ones(4).RequiresGrad_();
        var c = Torch.Ones(5).RequiresGrad_();
        using var opt = new AdamW(new[] { new ParamGroup(new[] { a }), new ParamGroup(new[] { b, c }, lr: 0.5, weightDecay: 0) }, amsgrad: true);
        a.Grad = Torch.Ones(2, 3);
        c.Grad = Torch.Ones(5);
        opt.Step();
        opt.Step();
        var state = opt.StateDict();
        Assert.Equal(new[] { "state.0.exp_avg", "state.0.exp_avg_sq", "state.0.max_exp_avg_sq", "state.2.exp_avg", "state.2.exp_avg_sq", "state.2.max_exp_avg_sq" }, state.Tensors.Keys.Order().ToArray());
        Assert.Equal("AdamW", state.Metadata["optimizer"]);
        Assert.Equal("2", state.Metadata["groups"]);
        Assert.Equal("0", state.Metadata["groups.0.params"]);
        Assert.Equal("1,2", state.Metadata["groups.1.params"]);
        Assert.Equal("0.001", state.Metadata["groups.0.lr"]);
        Assert.Equal("0.5", state.Metadata["groups.1.lr"]);
        Assert.Equal("0", state.Metadata["groups.1.weight_decay"]);
        Assert.Equal("0.999", state.Metadata["groups.0.beta2"]);
        Assert.Equal("1", state.Metadata["groups.0.amsgrad"]);
        Assert.Equal("2", state.Metadata["state.0.step"]);
        Assert.Equal("2", state.Metadata["state.2.step"]);
        Assert.False(state.Metadata.ContainsKey("state.1.step"));
        Assert.Equal(a.Shape, state.Tensors["state.0.exp_avg"].Shape);

        var prefixed = state.WithPrefix("optimizer.");
        Assert.Contains("optimizer.state.2.exp_avg", prefixed.Tensors.Keys);
        var back = OptimizerState.FromPrefixed("optimizer.", prefixed.Tensors.Concat(new[] { KeyValuePair.Create("model.w", a) }).ToDictionary(), prefixed.Metadata);
        Assert.Equal(state.Tensors.Keys.Order(), back.Tensors.Keys.Order());
        Assert.Equal(state.Metadata.OrderBy(kv => kv.Key), back.Metadata.OrderBy(kv => kv.Key));
    }

    [Fact]
    public void LoadingMismatchedStateFailsWithAMessageAndChangesNothing()
    {
        using var scope = DisposeScope.Enter();
        var a = Torch.Ones(2, 3).RequiresGrad_();
        var b = Torch.Ones(4).RequiresGrad_();
        using var adam = new AdamW(new[] { a, b }, lr: 0.01);
        a.Grad = Torch.Ones(2, 3);
        adam.Step();
        var good = adam.StateDict();

        using var sgd = new SGD(new[] { a, b }, lr: 0.1, momentum: 0.9);
        Assert.Contains("saved by AdamW", Assert.Throws<ArgumentException>(() => sgd.LoadStateDict(good, "ckpt.safetensors")).Message);
        Assert.Contains("from ckpt.safetensors", Assert.Throws<ArgumentException>(() => sgd.LoadStateDict(good, "ckpt.safetensors")).Message);

        using var oneGroupOfOne = new AdamW(new[] { a });
        Assert.Contains("parameter group 0 has 2 saved parameters, this optimizer's has 1", Assert.Throws<ArgumentException>(() => oneGroupOfOne.LoadStateDict(good)).Message);
        using var twoGroups = new AdamW(new[] { new ParamGroup(new[] { a }), new ParamGroup(new[] { b }) });
        Assert.Contains("2 parameter groups, this optimizer 1", Assert.Throws<ArgumentException>(() => adam.LoadStateDict(twoGroups.StateDict())).Message);

        var c = Torch.Ones(3, 2).RequiresGrad_();
        using var otherShapes = new AdamW(new[] { c, b });
        Assert.Contains("'state.0.exp_avg' is Float32 [2, 3], parameter 0 ('') is Float32 [3, 2]", Assert.Throws<ArgumentException>(() => otherShapes.LoadStateDict(good)).Message);

        var extra = new OptimizerState(new Dictionary<string, Tensor>(good.Tensors) { ["state.1.momentum_buffer"] = Torch.Zeros(4) }, good.Metadata);
        Assert.Contains("keeps no buffer named 'momentum_buffer'", Assert.Throws<ArgumentException>(() => adam.LoadStateDict(extra)).Message);
        var outOfRange = new OptimizerState(new Dictionary<string, Tensor>(good.Tensors) { ["state.7.exp_avg"] = Torch.Zeros(4) }, good.Metadata);
        Assert.Contains("'state.7.exp_avg' does not name one of the 2 parameters", Assert.Throws<ArgumentException>(() => adam.LoadStateDict(outOfRange)).Message);
        var badOption = new OptimizerState(good.Tensors, new Dictionary<string, string>(good.Metadata) { ["groups.0.beta1"] = "1.5" });
        Assert.Contains("invalid beta1 1.5", Assert.Throws<ArgumentException>(() => adam.LoadStateDict(badOption)).Message);

        // None of the failed loads touched the live state.
        Assert.Equal(0.01, adam.ParamGroups[0].Lr);
        Assert.Equal(0.9, adam.ParamGroups[0]["beta1"]);
        Assert.Equal("1", adam.StateDict().Metadata["state.0.step"]);
    }

    [Fact]
    public void ConstructionValidatesParametersAndOptions()
    {
        using var scope = DisposeScope.Enter();
        var a = Torch.Ones(3).RequiresGrad_();
        var b = Torch.Ones(3).RequiresGrad_();
        Assert.Contains("Nesterov momentum requires a momentum and zero dampening", Assert.Throws<ArgumentException>(() => new SGD(new[] { a }, lr: 0.1, nesterov: true)).Message);
        Assert.Contains("invalid lr -1", Assert.Throws<ArgumentException>(() => new SGD(new[] { a }, lr: -1)).Message);
        Assert.Contains("invalid momentum -0.5", Assert.Throws<ArgumentException>(() => new SGD(new[] { a }, lr: 0.1, momentum: -0.5)).Message);
        Assert.Contains("invalid beta2 1", Assert.Throws<ArgumentException>(() => new AdamW(new[] { a }, beta2: 1)).Message);
        Assert.Contains("invalid eps -1", Assert.Throws<ArgumentException>(() => new AdamW(new[] { a }, eps: -1)).Message);
        Assert.Contains("more than one parameter group", Assert.Throws<ArgumentException>(() => new AdamW(new[] { new ParamGroup(new[] { a }), new ParamGroup(new[] { a, b }) })).Message);
        Assert.Contains("appears twice", Assert.Throws<ArgumentException>(() => new AdamW(new[] { a, a })).Message);
        Assert.Contains("not a leaf", Assert.Throws<ArgumentException>(() => new AdamW(new[] { a * 2f })).Message);
        Assert.Contains("Int64", Assert.Throws<ArgumentException>(() => new AdamW(new[] { Torch.Zeros(new[] { 2 }, DType.Int64) })).Message);
        Assert.Contains("empty list", Assert.Throws<ArgumentException>(() => new AdamW(Array.Empty<ParamGroup>())).Message);

        using var opt = new SGD(new[] { a }, lr: 0.1);
        a.Grad = Torch.Ones(4);
        Assert.Contains("has shape [4], the parameter [3]", Assert.Throws<ArgumentException>(() => opt.Step()).Message);
        a.Grad = null;
    }

    [Fact]
    public void ParametersWithoutGradientsAreSkippedAndZeroGradReleasesGradients()
    {
        using var scope = DisposeScope.Enter();
        var a = Torch.Ones(3).RequiresGrad_();
        var b = Torch.Ones(3).RequiresGrad_();
        using var opt = new AdamW(new[] { a, b }, lr: 0.1, weightDecay: 0.5);
        a.Grad = Torch.Ones(3).DetachFromScopes();
        var grad = a.Grad;
        opt.Step();
        Assert.Equal(new[] { 1f, 1f, 1f }, b.ToArray());
        Assert.NotEqual(1f, a.ToArray()[0]);
        Assert.DoesNotContain(opt.StateDict().Tensors.Keys, k => k.StartsWith("state.1.", StringComparison.Ordinal));
        opt.ZeroGrad();
        Assert.Null(a.Grad);
        Assert.True(grad.IsDisposed);
    }

    [Fact]
    public void StepUsesTheGroupsCurrentHyperParameters()
    {
        using var scope = DisposeScope.Enter();
        var a = Torch.Ones(2).RequiresGrad_();
        using var opt = new SGD(new[] { a }, lr: 0.1);
        a.Grad = Torch.Ones(2);
        opt.Step();
        opt.ParamGroups[0].Lr = 0.5;
        opt.Step();
        TensorAssert.Close(new[] { 0.4f, 0.4f }, a);
        a.Grad = null;
    }

    [Fact]
    public void ALargeParameterIsUpdatedLikeASmallOne()
    {
        // Above FusedUpdate.ParallelThreshold the update is split across threads and vector widths;
        // every element must still get exactly the value an isolated small update would give it.
        using var scope = DisposeScope.Enter();
        var g = new Generator(9);
        int n = CrossDistill.Engine.Kernels.FusedUpdate.ParallelThreshold * 2 + 13;
        var big = Torch.Randn(new[] { n }, g).RequiresGrad_();
        var grad = Torch.Randn(new[] { n }, g);
        int[] probes = { 0, 5, 15, 16, 17, n / 2 - 3, n / 2 + 1, n - 13, n - 1 };
        var small = probes.Select(i => Torch.FromArray(new[] { big.ToArray()[i] }).RequiresGrad_()).ToArray();
        using var bigOpt = new AdamW(new[] { big }, lr: 0.01, amsgrad: true);
        using var smallOpt = new AdamW(small, lr: 0.01, amsgrad: true);
        var gradValues = grad.ToArray();
        for (int step = 0; step < 3; step++)
        {
            big.Grad = grad.Alias();
            for (int k = 0; k < probes.Length; k++) small[k].Grad = Torch.FromArray(new[] { gradValues[probes[k]] });
            bigOpt.Step();
            smallOpt.Step();
        }
        var values = big.ToArray();
        for (int k = 0; k < probes.Length; k++) Assert.Equal(small[k].ToArray()[0], values[probes[k]]);
        big.Grad = null;
        foreach (var s in small) s.Grad = null;
    }
}
