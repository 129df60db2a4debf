using CrossDistill.Engine.Nn;
using CrossDistill.Engine.Optim;

namespace CrossDistill.Engine.Tests.Optim;

public class ParamGroupsTests
{
    private sealed class Block : Module
    {
        public Block()
        {
            RegisterParameter("weight", Torch.Ones(4, 3));
            RegisterParameter("bias", Torch.Ones(4));
            RegisterParameter("pos_embed", Torch.Ones(1, 5, 4));
            RegisterParameter("scale", Torch.Ones(1));
            RegisterParameter("temperature", Torch.Scalar(1f));
            RegisterParameter("frozen", Torch.Ones(2, 2)).RequiresGrad = false;
            RegisterModule("proj", new Leaf());
        }
    }

    private sealed class Leaf : Module
    {
        public Leaf()
        {
            RegisterParameter("weight", Torch.Ones(2, 2, 3, 3));
            RegisterParameter("bias", Torch.Ones(2, 1));
        }
    }

    [Fact]
    public void SplitDecayExemptsNormsBiasesAndListedNames()
    {
        using var model = new Block();
        var named = model.NamedParameters().ToDictionary(p => p.Name, p => p.Parameter);
        var groups = ParamGroups.SplitDecay(model.NamedParameters(), 0.05, noDecayNames: new[] { "pos_embed" });
        Assert.Equal(2, groups.Count);
        Assert.Equal(0, groups[0].WeightDecay);
        Assert.Equal(0.05, groups[1].WeightDecay);
        Assert.Equal(new[] { "bias", "pos_embed", "scale", "temperature", "proj.bias" }.Select(n => named[n]), groups[0].Parameters);
        Assert.Equal(new[] { "weight", "proj.weight" }.Select(n => named[n]), groups[1].Parameters);

        // The groups plug into an optimizer, which fills in the rest from its defaults.
        using var opt = new AdamW(groups, lr: 0.002, weightDecay: 0.3);
        Assert.Equal(0, opt.ParamGroups[0].WeightDecay);
        Assert.Equal(0.05, opt.ParamGroups[1].WeightDecay);
        Assert.Equal(0.002, opt.ParamGroups[1].Lr);
    }

    [Fact]
    public void EmptyGroupsAreLeftOut()
    {
        using var leaf = new Leaf();
        var groups = ParamGroups.SplitDecay(leaf.NamedParameters().Where(p => p.Name == "weight"), 0.1);
        Assert.Single(groups);
        Assert.Equal(0.1, groups[0].WeightDecay);
    }

    [Fact]
    public void GroupOptionsHaveClearErrors()
    {
        var group = new ParamGroup(Array.Empty<Tensor>());
        Assert.Contains("no option 'lr'", Assert.Throws<KeyNotFoundException>(() => group.Lr).Message);
        Assert.Throws<ArgumentException>(() => group["a.b"] = 1);
        Assert.Throws<ArgumentException>(() => group["params"] = 1);
        group.SetDefault("momentum", 0.9);
        group.SetDefault("momentum", 0.1);
        Assert.Equal(0.9, group["momentum"]);
    }
}
