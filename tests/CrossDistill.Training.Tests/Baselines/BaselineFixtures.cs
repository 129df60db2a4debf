using System.Text.Json;
using CrossDistill.Engine.IO;

namespace CrossDistill.Training.Tests.Baselines;

/// <summary>One case of tests/fixtures/training/baselines.safetensors (tools/fixtures/gen_baselines.py).</summary>
public sealed class BaselineCase
{
    private readonly Dictionary<string, Tensor> _tensors;

    public BaselineCase(string name, JsonElement spec, Dictionary<string, Tensor> tensors)
    {
        Name = name;
        Kind = spec.GetProperty("kind").GetString()!;
        Args = spec.GetProperty("args").Clone();
        _tensors = tensors;
    }

    public string Name { get; }
    public string Kind { get; }
    public JsonElement Args { get; }

    public Tensor this[string key] => _tensors.TryGetValue($"{Name}.{key}", out var t) ? t
        : throw new KeyNotFoundException($"Fixture case {Name} has no tensor '{key}'.");

    public bool Has(string key) => _tensors.ContainsKey($"{Name}.{key}");

    public float Float(string key) => Args.GetProperty(key).GetSingle();
    public int Int(string key) => Args.GetProperty(key).GetInt32();
    public bool Bool(string key) => Args.GetProperty(key).GetBoolean();
    public string Str(string key) => Args.GetProperty(key).GetString()!;

    /// <summary>Tensors under "<paramref name="prefix"/>." with the prefix removed (a state dict, its gradients, …).</summary>
    public Dictionary<string, Tensor> WithPrefix(string prefix)
    {
        string full = $"{Name}.{prefix}.";
        return _tensors.Where(kv => kv.Key.StartsWith(full, StringComparison.Ordinal)).ToDictionary(kv => kv.Key[full.Length..], kv => kv.Value);
    }

    public override string ToString() => Name;
}

public static class BaselineFixtures
{
    private static readonly Lazy<Dictionary<string, BaselineCase>> All = new(Load);

    public static BaselineCase Get(string name) => All.Value[name];

    public static IEnumerable<object[]> Names(string kind) => All.Value.Values.Where(c => c.Kind == kind).Select(c => new object[] { c.Name });

    private static Dictionary<string, BaselineCase> Load()
    {
        var tensors = Safetensors.Load(Repo.Fixtures("training", "baselines.safetensors"), out var metadata);
        foreach (var t in tensors.Values) t.DetachFromScopes();
        return metadata.ToDictionary(kv => kv.Key, kv => new BaselineCase(kv.Key, JsonDocument.Parse(kv.Value).RootElement, tensors));
    }

    /// <summary>A leaf copy of a fixture tensor that requires grad: contiguous, or stored transposed and viewed back.</summary>
    public static Tensor Leaf(Tensor t, bool transposedStorage = false)
    {
        Tensor leaf;
        if (transposedStorage && t.Rank == 2)
        {
            var stored = Torch.Empty(t.Shape[1], t.Shape[0]).CopyFrom(t.Transpose(0, 1));
            leaf = stored.Transpose(0, 1).Detach();
        }
        else leaf = t.Clone().Detach();
        leaf.RequiresGrad = true;
        return leaf;
    }
}
