using System.Text.Json;
using CrossDistill.Engine.IO;
using CrossDistill.Engine.Optim;
using CrossDistill.TestSupport;

namespace CrossDistill.Engine.Tests.Optim;

/// <summary>The cases of tests/fixtures/engine/optim.safetensors (written by tools/fixtures/gen_optim.py).</summary>
internal static class OptimFixture
{
    public const int Steps = 20;
    public static readonly int ParamCount = 3;

    private static readonly Lazy<(Dictionary<string, Tensor> Tensors, Dictionary<string, string> Metadata)> Data = new(() =>
    {
        var tensors = Safetensors.Load(Repo.Fixtures("engine", "optim.safetensors"), out var metadata);
        return (tensors, metadata);
    });

    public static Tensor Get(string key) =>
        Data.Value.Tensors.TryGetValue(key, out var t) ? t : throw new KeyNotFoundException($"optim.safetensors has no tensor '{key}'.");

    public static bool Has(string key) => Data.Value.Tensors.ContainsKey(key);

    public static IEnumerable<string> Keys => Data.Value.Tensors.Keys;

    public static JsonElement Spec(string name) => JsonDocument.Parse(Data.Value.Metadata[name]).RootElement;

    public static IEnumerable<object[]> Cases(string kind) =>
        Data.Value.Metadata.Keys.Order(StringComparer.Ordinal).Where(n => Spec(n).GetProperty("kind").GetString() == kind).Select(n => new object[] { n });

    /// <summary>Fresh leaf parameters holding the fixture's initial values; parameter 2 optionally stored channels-last.</summary>
    public static Tensor[] NewParameters(bool channelsLast = false)
    {
        var ps = new Tensor[ParamCount];
        for (int i = 0; i < ParamCount; i++)
        {
            var init = Get($"init.p{i}");
            ps[i] = (channelsLast && init.Rank == 4 ? init.ContiguousChannelsLast() : init.Clone()).DetachFromScopes();
            ps[i].Name = $"p{i}";
            ps[i].RequiresGrad = true;
        }
        if (channelsLast) Assert.True(ps[2].IsChannelsLast && !ps[2].IsContiguous);
        return ps;
    }

    /// <summary>The optimizer a case describes, over <paramref name="ps"/>.</summary>
    public static Optimizer NewOptimizer(JsonElement spec, Tensor[] ps)
    {
        var d = spec.GetProperty("defaults");
        double D(string key, double fallback) => d.TryGetProperty(key, out var v) ? v.GetDouble() : fallback;
        var groups = spec.GetProperty("groups").EnumerateArray().Select(g =>
        {
            var group = new ParamGroup(g.GetProperty("params").EnumerateArray().Select(i => ps[i.GetInt32()]));
            foreach (var option in g.EnumerateObject())
                if (option.Name != "params") group[option.Name] = option.Value.GetDouble();
            return group;
        }).ToList();
        return spec.GetProperty("opt").GetString() switch
        {
            "sgd" => new SGD(groups, D("lr", double.NaN), D("momentum", 0), D("dampening", 0), D("weight_decay", 0), D("nesterov", 0) != 0, D("maximize", 0) != 0),
            "adamw" => new AdamW(groups, D("lr", 1e-3), D("beta1", 0.9), D("beta2", 0.999), D("eps", 1e-8), D("weight_decay", 1e-2), D("amsgrad", 0) != 0, D("maximize", 0) != 0),
            var other => throw new InvalidOperationException($"Unknown optimizer '{other}' in the fixture."),
        };
    }

    public static int[] Frozen(JsonElement spec) => spec.GetProperty("frozen").EnumerateArray().Select(e => e.GetInt32()).ToArray();

    /// <summary>Sets each parameter's gradient to the one PyTorch saw before step <paramref name="step"/>.</summary>
    public static void SetStoredGradients(string name, Tensor[] ps, int step)
    {
        for (int i = 0; i < ps.Length; i++)
        {
            if (!Has($"{name}.grads.p{i}")) continue;
            ps[i].Grad = Get($"{name}.grads.p{i}").Select(0, step).Contiguous().DetachFromScopes();
        }
    }

    /// <summary>The fixture's loss, sum(A·p·p) + sum(exp(0.1·p)·B) over the unfrozen parameters, back-propagated.</summary>
    public static void BackpropagateLoss(Tensor[] ps, int[] frozen)
    {
        using var scope = DisposeScope.Enter();
        Tensor? loss = null;
        for (int i = 0; i < ps.Length; i++)
        {
            if (frozen.Contains(i)) continue;
            var term = (Get($"A.p{i}") * ps[i] * ps[i]).Sum() + ((ps[i] * 0.1f).Exp() * Get($"B.p{i}")).Sum();
            loss = loss is null ? term : loss + term;
        }
        loss!.Backward();
    }

    public static void DisposeAll(Tensor[] ps)
    {
        foreach (var p in ps) { p.Grad?.Dispose(); p.Dispose(); }
    }
}
