using System.Text.Json;
using CrossDistill.Engine.Nn;
using CrossDistill.Training.Distillers.PatModules;

namespace CrossDistill.Training.Tests.Pat;

/// <summary>
/// RAA, the aligners, the prompt blocks, the feedback aligners and HCL against the PyTorch
/// reference (tools/fixtures/gen_pat.py), in the corrected and the as_published mode: outputs, and
/// the gradients of the inputs and of every parameter for a random upstream gradient.
/// </summary>
public sealed class PatModuleParityTests
{
    private const float Rtol = 1e-4f, Atol = 1e-5f;

    public static IEnumerable<object[]> ModuleCases => PatFixture.Cases("raa", "aligner", "prompt", "fb_aligner", "hcl");

    [Theory]
    [MemberData(nameof(ModuleCases))]
    public void Module_matches_pytorch(string name)
    {
        using var scope = DisposeScope.Enter();
        var meta = PatFixture.Meta(name);
        var config = meta.GetProperty("config");
        int nIn = meta.GetProperty("n_in").GetInt32(), nOut = meta.GetProperty("n_out").GetInt32();
        var inputs = Enumerable.Range(0, nIn).Select(i => PatFixture.TryGet($"{name}/in{i}") is null ? null : PatFixture.Leaf($"{name}/in{i}")).ToArray();

        var (module, forward) = Build(meta.GetProperty("kind").GetString()!, config);
        if (module is not null)
        {
            PatFixture.LoadInto(module, meta.GetProperty("weights").GetString() + "/w.");
            module.Train();
        }
        var outputs = forward(inputs);
        Assert.Equal(nOut, outputs.Length);
        Tensor? loss = null;
        for (int i = 0; i < nOut; i++)
        {
            TensorAssert.Close(PatFixture.Get($"{name}/out{i}"), outputs[i], Rtol, Atol, $"{name}: output {i}");
            var term = (outputs[i] * PatFixture.Get($"{name}/gout{i}")).Sum();
            loss = loss is null ? term : loss + term;
        }
        loss!.Backward();

        for (int i = 0; i < nIn; i++)
        {
            if (inputs[i] is not { } x) continue;
            var expected = PatFixture.TryGet($"{name}/gin{i}");
            if (expected is null) Assert.True(x.Grad is null || x.Grad.Abs().Max().Item() == 0, $"{name}: input {i} should get no gradient");
            else TensorAssert.Close(expected, x.Grad ?? throw new Xunit.Sdk.XunitException($"{name}: input {i} got no gradient"), Rtol * 10, Atol * 10, $"{name}: gradient of input {i}");
        }
        if (module is null) return;
        foreach (var (pname, p) in module.NamedParameters())
        {
            var expected = PatFixture.TryGet($"{name}/grad/{pname}");
            if (expected is null)
                Assert.True(p.Grad is null || p.Grad.Abs().Max().Item() == 0, $"{name}: {pname} should get no gradient");
            else
                TensorAssert.Close(expected, p.Grad ?? throw new Xunit.Sdk.XunitException($"{name}: {pname} got no gradient"), Rtol * 10, Atol * 10, $"{name}: gradient of {pname}");
        }
        module.Dispose();
    }

    private static (Module? Module, Func<Tensor?[], Tensor[]> Forward) Build(string kind, JsonElement config)
    {
        bool Published() => config.GetProperty("pub").GetBoolean();
        switch (kind)
        {
            case "raa":
                var specs = config.GetProperty("specs").EnumerateArray().Select(PatFixture.Spec).ToArray();
                var raa = new RegionAwareAttention(specs, config.GetProperty("nq").GetInt32(), config.GetProperty("d").GetInt32(), config.GetProperty("heads").GetInt32(), Published());
                return (raa, x => raa.Forward(x.Select(t => t!).ToArray()));
            case "aligner":
                var aligner = Aligners.Create(PatFixture.Spec(config.GetProperty("src")), PatFixture.Spec(config.GetProperty("dst")));
                return (aligner, x => new[] { aligner.Forward(x[0]!) });
            case "prompt":
                var block = new PromptBlock(PatFixture.Spec(config.GetProperty("spec")), Published());
                return (block, x => new[] { block.Forward(x[0]!, x[1]) });
            case "fb_aligner":
                var fb = AdaptiveFeedbackPrompts.CreateFeedbackAligner(PatFixture.Spec(config.GetProperty("out")), PatFixture.Spec(config.GetProperty("in")), Published());
                return (fb, x => new[] { fb.Forward(x[0]!) });
            case "hcl":
                return (null, x => new[] { Hcl.Loss(x[0]!, x[1]!) });
            default:
                throw new InvalidOperationException($"Unknown fixture kind '{kind}'.");
        }
    }
}
