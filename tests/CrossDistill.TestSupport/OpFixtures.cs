using System.Text.Json;
using CrossDistill.Engine.IO;

namespace CrossDistill.TestSupport;

/// <summary>
/// One PyTorch reference case from a fixture file written by tools/fixtures/*.py: inputs (with the
/// layout PyTorch saw them in), the op's arguments, the output, the upstream gradient and the
/// expected input gradients.
/// </summary>
public sealed class OpCase
{
    public required string Name { get; init; }
    public required string Op { get; init; }
    public required JsonElement Args { get; init; }
    public required Tensor[] Inputs { get; init; }
    public required Tensor[] Outputs { get; init; }
    public required Tensor?[] GradOutputs { get; init; }
    public required Tensor?[] GradInputs { get; init; }

    public float Float(string key, float fallback = 0f) => Args.TryGetProperty(key, out var v) ? v.GetSingle() : fallback;
    public int Int(string key, int fallback = 0) => Args.TryGetProperty(key, out var v) ? v.GetInt32() : fallback;
    public bool Bool(string key, bool fallback = false) => Args.TryGetProperty(key, out var v) ? v.GetBoolean() : fallback;
    public string? Str(string key) => Args.TryGetProperty(key, out var v) ? v.GetString() : null;
    public int[]? Ints(string key) => Args.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.Array ? v.EnumerateArray().Select(e => e.GetInt32()).ToArray() : null;
    public bool Has(string key) => Args.TryGetProperty(key, out var v) && v.ValueKind != JsonValueKind.Null;

    public override string ToString() => Name;
}

public static class OpFixtures
{
    private static readonly Dictionary<string, List<OpCase>> Cache = new();

    /// <summary>Names of the cases in tests/fixtures/engine/{file}.safetensors, for [MemberData].</summary>
    public static IEnumerable<object[]> CaseNames(string file) => Load(file).Select(c => new object[] { c.Name });

    public static OpCase Get(string file, string name) => Load(file).Single(c => c.Name == name);

    public static List<OpCase> Load(string file)
    {
        lock (Cache)
        {
            if (Cache.TryGetValue(file, out var cached)) return cached;
            var path = Repo.Fixtures("engine", file + ".safetensors");
            var tensors = Safetensors.Load(path, out var metadata);
            var cases = new List<OpCase>();
            foreach (var (name, json) in metadata.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            {
                var spec = JsonDocument.Parse(json).RootElement;
                var layouts = spec.GetProperty("layouts").EnumerateArray().Select(e => e.GetString() ?? "").ToArray();
                var inputs = new Tensor[spec.GetProperty("n_in").GetInt32()];
                for (int i = 0; i < inputs.Length; i++) inputs[i] = ApplyLayout(tensors[$"{name}.in{i}"], layouts[i]);
                int nOut = spec.GetProperty("n_out").GetInt32();
                cases.Add(new OpCase
                {
                    Name = name,
                    Op = spec.GetProperty("op").GetString()!,
                    Args = spec.GetProperty("args").Clone(),
                    Inputs = inputs,
                    Outputs = Enumerable.Range(0, nOut).Select(i => tensors[$"{name}.out{i}"]).ToArray(),
                    GradOutputs = Enumerable.Range(0, nOut).Select(i => tensors.GetValueOrDefault($"{name}.gout{i}")).ToArray(),
                    GradInputs = Enumerable.Range(0, inputs.Length).Select(i => tensors.GetValueOrDefault($"{name}.gin{i}")).ToArray(),
                });
            }
            Cache[file] = cases;
            return cases;
        }
    }

    /// <summary>Re-creates the non-contiguous view PyTorch saw from the stored base tensor.</summary>
    private static Tensor ApplyLayout(Tensor stored, string layout) => layout switch
    {
        "" => stored,
        "t" => stored.Transpose(-1, -2).DetachFromScopes(),          // stored with the last two dims swapped
        "s" => stored.Slice(-1, 0, stored.Shape[^1], 2).DetachFromScopes(), // every other element of the last dim
        "cl" => stored.Permute(0, 3, 1, 2).DetachFromScopes(),          // stored NHWC
        _ => throw new InvalidOperationException($"Unknown fixture layout '{layout}'."),
    };

    /// <summary>A fresh leaf copy of a fixture input (keeping its layout) that requires grad when it is float.</summary>
    public static Tensor Leaf(Tensor t, bool requiresGrad)
    {
        var view = t.Detach();
        view.DetachFromScopes();
        if (requiresGrad && t.DType == DType.Float32) view.RequiresGrad = true;
        return view;
    }
}
