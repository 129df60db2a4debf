using CrossDistill.Engine.Nn;
using CrossDistill.TestSupport;

namespace CrossDistill.Engine.Tests.Nn;

/// <summary>Small layers built from the existing ops, for container, serialization and training tests.</summary>
internal sealed class Scale : Module<Tensor, Tensor>
{
    public Scale(int features, float value = 1f)
    {
        Weight = RegisterParameter("weight", Torch.Full(new[] { features }, value));
        Bias = RegisterParameter("bias", Torch.Zeros(features));
        RegisterBuffer("calls", Torch.Zeros(new[] { 1 }, DType.Int64));
    }

    public Tensor Weight { get; }
    public Tensor Bias { get; }

    public override Tensor Forward(Tensor input) => input * Weight + Bias;
}

internal sealed class ReluLayer : Module<Tensor, Tensor>
{
    public override Tensor Forward(Tensor input) => F.Relu(input);
}

/// <summary>nn.Linear written with broadcasting: y = Σ_k x[.., k]·W[j, k] + b[j].</summary>
internal sealed class BroadcastLinear : Module<Tensor, Tensor>
{
    public BroadcastLinear(int inFeatures, int outFeatures, Generator? generator = null)
    {
        Weight = RegisterParameter("weight", Torch.Empty(outFeatures, inFeatures));
        Bias = RegisterParameter("bias", Torch.Empty(outFeatures));
        Init.DefaultLinearOrConv(Weight, Bias, generator);
    }

    public Tensor Weight { get; }
    public Tensor Bias { get; }

    public override Tensor Forward(Tensor input) => (input.Unsqueeze(-2) * Weight).Sum(-1) + Bias;
}

public class ContainerTests
{
    [Fact]
    public void SequentialChainsItsModulesAndNamesThemByIndex()
    {
        using var scope = DisposeScope.Enter();
        using var model = new Sequential(new Scale(3, 2f), new ReluLayer(), new Scale(3, -1f));
        var x = Torch.FromArray(new[] { 1f, -2f, 3f }, 3);
        TensorAssert.Close(new[] { -2f, 0f, -6f }, model.Call(x));
        Assert.Equal(new[] { "0.weight", "0.bias", "2.weight", "2.bias" }, model.NamedParameters().Select(p => p.Name));
        Assert.Equal(new[] { "0.weight", "0.bias", "0.calls", "2.weight", "2.bias", "2.calls" }, model.StateDict().Keys);
        Assert.Equal(3, model.Count);
        Assert.IsType<ReluLayer>(model[1]);
        Assert.Same(model[2], model[-1]);
        Assert.Same(x, new Sequential().Call(x));
    }

    [Fact]
    public void SequentialTakesNames()
    {
        using var model = new Sequential(("stem", new Scale(2)), ("act", new ReluLayer()));
        model.Add(new Scale(2));
        Assert.Equal(new[] { "stem", "act", "2" }, model.NamedChildren().Select(c => c.Name));
        Assert.Contains("already registered", Assert.Throws<ArgumentException>(() => model.Add("stem", new Identity())).Message);
        Assert.Throws<ArgumentException>(() => model.Add("a.b", new Identity()));
    }

    [Fact]
    public void ModuleListRegistersByIndex()
    {
        using var blocks = new ModuleList<Scale>(new Scale(2), new Scale(3));
        blocks.Add(new Scale(4));
        Assert.Equal(3, blocks.Count);
        Assert.Equal(new[] { "0.weight", "0.bias", "1.weight", "1.bias", "2.weight", "2.bias" }, blocks.NamedParameters().Select(p => p.Name));
        Assert.Equal(4, blocks[-1].Weight.Numel);
        var replacement = new Scale(7);
        var old = blocks[1];
        blocks[1] = replacement;
        Assert.Same(replacement, blocks[1]);
        Assert.DoesNotContain(blocks.Parameters(), p => ReferenceEquals(p, old.Weight));
        Assert.Contains(blocks.Parameters(), p => ReferenceEquals(p, replacement.Weight));
        Assert.Contains("index 3 is out of range for 3 modules", Assert.Throws<ArgumentOutOfRangeException>(() => blocks[3]).Message);
        old.Dispose();

        using var mixed = new ModuleList(new Identity(), new Scale(1));
        Assert.Equal(new[] { "0", "1" }, mixed.NamedChildren().Select(c => c.Name));
    }

    [Fact]
    public void ModuleDictKeepsInsertionOrder()
    {
        using var heads = new ModuleDict<Scale>(new[] { ("student", new Scale(2)), ("teacher", new Scale(3)) });
        heads["aux"] = new Scale(1);
        var first = heads["student"];
        heads["student"] = new Scale(5);
        first.Dispose();
        Assert.Equal(new[] { "student", "teacher", "aux" }, heads.Keys);
        Assert.Equal(new[] { "student.weight", "student.bias", "teacher.weight", "teacher.bias", "aux.weight", "aux.bias" }, heads.NamedParameters().Select(p => p.Name));
        Assert.Equal(5, heads["student"].Weight.Numel);
        Assert.True(heads.TryGetValue("aux", out var aux) && aux.Weight.Numel == 1);
        Assert.Contains("no module named 'head' (it has: student, teacher, aux)", Assert.Throws<KeyNotFoundException>(() => heads["head"]).Message);
        Assert.Contains("already registered", Assert.Throws<ArgumentException>(() => heads.Add("aux", new Scale(1))).Message);
        Assert.Throws<ArgumentException>(() => heads["a.b"] = new Scale(1));
        Assert.Equal(3, heads.Count);
    }

    [Fact]
    public void ContainersNestIntoPyTorchStyleKeys()
    {
        using var model = new Sequential(("stem", new Scale(2)), ("blocks", new SequentialOfList()));
        Assert.Equal(new[] { "stem.weight", "stem.bias", "blocks.layers.0.weight", "blocks.layers.0.bias", "blocks.layers.1.weight", "blocks.layers.1.bias" },
            model.NamedParameters().Select(p => p.Name));
        model.Eval();
        Assert.All(model.Modules(), m => Assert.False(m.Training));
    }

    private sealed class SequentialOfList : Module<Tensor, Tensor>
    {
        private readonly ModuleList<Scale> _layers;

        public SequentialOfList() => _layers = RegisterModule("layers", new ModuleList<Scale>(new Scale(2), new Scale(2)));

        public override Tensor Forward(Tensor input) => _layers.Aggregate(input, (x, l) => l.Call(x));
    }

    [Fact]
    public void IdentityReturnsItsInput()
    {
        using var scope = DisposeScope.Enter();
        var x = Torch.Ones(2, 2);
        Assert.Same(x, new Identity().Call(x));
        Assert.Empty(new Identity().Parameters());
    }
}
