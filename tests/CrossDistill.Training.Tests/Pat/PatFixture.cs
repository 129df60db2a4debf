using System.Text.Json;
using CrossDistill.Engine.IO;
using CrossDistill.Engine.Nn;
using CrossDistill.Models;

namespace CrossDistill.Training.Tests.Pat;

/// <summary>
/// The PyTorch reference of tools/fixtures/gen_pat.py (tests/fixtures/training/pat.safetensors):
/// tensors named "case/…", and per case a JSON description in the file's metadata.
/// </summary>
internal static class PatFixture
{
    private static readonly Lazy<(Dictionary<string, Tensor> Tensors, Dictionary<string, JsonElement> Meta)> Data = new(() =>
    {
        var tensors = Safetensors.Load(Repo.Fixtures("training", "pat.safetensors"), out var metadata);
        foreach (var t in tensors.Values) t.DetachFromScopes();
        return (tensors, metadata.ToDictionary(kv => kv.Key, kv => JsonDocument.Parse(kv.Value).RootElement.Clone()));
    });

    public static IEnumerable<object[]> Cases(params string[] kinds) =>
        Data.Value.Meta.Where(kv => kinds.Contains(kv.Value.GetProperty("kind").GetString())).Select(kv => kv.Key).Order(StringComparer.Ordinal).Select(n => new object[] { n });

    public static JsonElement Meta(string name) => Data.Value.Meta[name];

    public static Tensor Get(string key) => Data.Value.Tensors.TryGetValue(key, out var t) ? t : throw new KeyNotFoundException($"pat fixture has no tensor '{key}'.");

    public static Tensor? TryGet(string key) => Data.Value.Tensors.GetValueOrDefault(key);

    public static IEnumerable<string> Keys(string prefix) => Data.Value.Tensors.Keys.Where(k => k.StartsWith(prefix, StringComparison.Ordinal));

    /// <summary>A fresh leaf copy of a stored tensor.</summary>
    public static Tensor Leaf(string key, bool requiresGrad = true)
    {
        var t = Get(key).Clone();
        if (requiresGrad) t.RequiresGrad = true;
        return t;
    }

    /// <summary>("map", C, H, W) or ("tok", L, D, prefix) as our specs.</summary>
    public static FeatureSpec Spec(JsonElement e)
    {
        var shape = e.GetProperty("shape").EnumerateArray().Select(v => v.GetInt32()).ToArray();
        return e.GetProperty("kind").GetString() == "map" ? new MapSpec(shape[0], shape[1], shape[2]) : new TokenSpec(shape[0], shape[1], shape[2]);
    }

    /// <summary>
    /// Loads the tensors under <paramref name="prefix"/> into <paramref name="module"/>: every stored
    /// tensor must be used, and only batch-norm counters (not stored) may be left out.
    /// </summary>
    public static void LoadInto(Module module, string prefix)
    {
        var state = Keys(prefix).ToDictionary(k => k[prefix.Length..], Get);
        Assert.NotEmpty(state);
        var result = module.LoadStateDict(state, strict: false);
        Assert.True(result.UnexpectedKeys.Count == 0, $"{prefix}: keys the module does not have: {string.Join(", ", result.UnexpectedKeys)}");
        var missing = result.MissingKeys.Where(k => !k.EndsWith("num_batches_tracked", StringComparison.Ordinal)).ToList();
        Assert.True(missing.Count == 0, $"{prefix}: module keys the fixture lacks: {string.Join(", ", missing)}");
    }

    public static float Float(JsonElement e, string key) => (float)e.GetProperty(key).GetDouble();

    public static int[] Ints(JsonElement e, string key) => e.GetProperty(key).EnumerateArray().Select(v => v.GetInt32()).ToArray();
}
