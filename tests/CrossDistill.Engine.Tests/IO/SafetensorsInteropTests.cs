using System.Text.Json;
using CrossDistill.Engine.IO;
using CrossDistill.TestSupport;

namespace CrossDistill.Engine.Tests.IO;

/// <summary>
/// Our safetensors reader and writer against an independent implementation (tools/fixtures/
/// fixturelib.py) and PyTorch's own float16/bfloat16 conversions, in both directions.
/// </summary>
public class SafetensorsInteropTests
{
    private static uint Bits(float v) => BitConverter.SingleToUInt32Bits(v);

    /// <summary>float32 → bfloat16 → float32 with round-to-nearest-even, as torch converts.</summary>
    private static float RoundToBFloat16(float v)
    {
        uint bits = Bits(v);
        return BitConverter.UInt32BitsToSingle((uint)(((ulong)bits + 0x7FFF + ((bits >> 16) & 1)) >> 16) << 16);
    }

    private static void AssertFloats(float[] expected, Tensor actual, string what)
    {
        var a = actual.ToArray();
        Assert.Equal(expected.Length, a.Length);
        for (int i = 0; i < a.Length; i++)
        {
            if (float.IsNaN(expected[i])) Assert.True(float.IsNaN(a[i]), $"{what}[{i}]: {a[i]}, expected NaN");
            else Assert.True(Bits(expected[i]) == Bits(a[i]), $"{what}[{i}]: {a[i]} (0x{Bits(a[i]):X8}), expected {expected[i]} (0x{Bits(expected[i]):X8})");
        }
    }

    [Fact]
    public void ReadsTheCommittedFileFromTheIndependentWriter()
    {
        var tensors = Safetensors.Load(Repo.Fixtures("engine", "safetensors_interop.safetensors"), out var metadata);
        try
        {
            Assert.Equal(new Dictionary<string, string> { ["producer"] = "fixturelib", ["json"] = "{\"a\": [1, 2], \"b\": \"x<y\"}", ["unicode"] = "café ✓" }, metadata);
            Assert.Equal(new[] { "bf16", "empty", "empty_i64", "f16", "f32", "f32_special", "f64", "i64", "nested.name.with.dots", "scalar" }, tensors.Keys.Order(StringComparer.Ordinal));

            Assert.Equal(new[] { 2, 3 }, tensors["f32"].Shape);
            AssertFloats(Enumerable.Range(0, 6).Select(i => (i - 2.5f) * 0.75f).ToArray(), tensors["f32"], "f32");
            AssertFloats(new[] { -0f, float.PositiveInfinity, float.NegativeInfinity, float.NaN, float.Epsilon, float.MaxValue }, tensors["f32_special"], "f32_special");
            Assert.Equal(new[] { 3, 2 }, tensors["f16"].Shape);
            AssertFloats(new[] { -1f, 0.5f, 65504f, (float)(Half)6e-8, -0f, (float)(Half)(1.0 / 3) }, tensors["f16"], "f16");
            AssertFloats(new[] { 1f, -2.5f, 1f / 3, 3.0e38f, 1e-39f }.Select(RoundToBFloat16).ToArray(), tensors["bf16"], "bf16");
            Assert.Equal(0.333984375f, tensors["bf16"].ToArray()[2]);
            AssertFloats(new[] { 0.1f, -2.5f, float.PositiveInfinity, 1e-3f }, tensors["f64"], "f64");
            Assert.Equal(DType.Int64, tensors["i64"].DType);
            Assert.Equal(new[] { -3L, 0, 1L << 40, 1L << 62 }, tensors["i64"].ToLongArray());
            Assert.Empty(tensors["scalar"].Shape);
            Assert.Equal(7.25f, tensors["scalar"].Item());
            Assert.Equal(new[] { 0, 4 }, tensors["empty"].Shape);
            Assert.Equal(new[] { 3, 0 }, tensors["empty_i64"].Shape);
            Assert.Equal(DType.Int64, tensors["empty_i64"].DType);
            Assert.Equal(new[] { 1.5f }, tensors["nested.name.with.dots"].ToArray());
        }
        finally
        {
            foreach (var t in tensors.Values) t.Dispose();
        }
    }

    private static Dictionary<string, Tensor> SampleTensors()
    {
        var g = new Generator(21);
        var weights = Torch.FromArray(new[]
        {
            -0f, float.PositiveInfinity, float.NegativeInfinity, float.NaN, 1e-40f, float.MaxValue,
            1f / 3, -2.75f, 65520f, 1e-8f, 0.1f, 12345.678f,
        }, 3, 4);
        return new Dictionary<string, Tensor>
        {
            ["weights"] = weights,
            ["transposed"] = Torch.Randn(new[] { 4, 3 }, g).T,
            ["channels_last"] = Torch.Randn(new[] { 1, 2, 2, 3 }, g).ContiguousChannelsLast(),
            ["scalar"] = Torch.Scalar(2.5f),
            ["empty"] = Torch.Zeros(0, 3),
            ["labels"] = Torch.FromArray(new[] { -7L, 0, 1L << 40, long.MaxValue, long.MinValue }),
            ["empty_labels"] = Torch.Zeros(new[] { 0 }, DType.Int64),
        };
    }

    private const string ReadBackScript = """
import json, struct, sys
import numpy as np, torch
from fixturelib import load_safetensors, save_safetensors
out = {}
for path in sys.argv[1:]:
    raw = open(path, "rb").read()
    header = json.loads(raw[8:8 + struct.unpack("<Q", raw[:8])[0]])
    arrays, meta = load_safetensors(path)
    entry = {"metadata": meta, "tensors": {}}
    for name, arr in arrays.items():
        dtype = header[name]["dtype"]
        if dtype in ("F32", "BF16"):
            bits = arr.astype(np.float32).view(np.uint32).ravel().tolist()
        elif dtype == "F16":
            bits = arr.view(np.uint16).ravel().tolist()
        else:
            bits = arr.ravel().tolist()
        entry["tensors"][name] = {"dtype": dtype, "shape": list(arr.shape), "bits": bits}
    if all(header[n]["dtype"] in ("F32", "F16", "I64") for n in arrays):
        save_safetensors(path + ".py", arrays, meta)
        entry["identical"] = open(path + ".py", "rb").read() == raw
    out[path] = entry
f32, _ = load_safetensors(sys.argv[1])
out["torch"] = {name: {
    "f16": torch.from_numpy(a).to(torch.float16).view(torch.int16).numpy().view(np.uint16).ravel().tolist(),
    "bf16": torch.from_numpy(a).to(torch.bfloat16).float().numpy().view(np.uint32).ravel().tolist(),
} for name, a in f32.items() if a.dtype == np.float32}
print(json.dumps(out))
""";

    [PyTorchFact]
    public void ThePythonReaderReadsWhatWeWrite()
    {
        using var scope = DisposeScope.Enter();
        var dir = Directory.CreateTempSubdirectory("crossdistill-st-");
        try
        {
            var tensors = SampleTensors();
            var meta = new Dictionary<string, string> { ["format"] = "pt", ["epoch"] = "7" };
            string f32 = Path.Combine(dir.FullName, "f32.safetensors"), f16 = Path.Combine(dir.FullName, "f16.safetensors"), bf16 = Path.Combine(dir.FullName, "bf16.safetensors");
            Safetensors.Save(f32, tensors, meta);
            Safetensors.Save(f16, tensors, meta, asHalf: true);
            Safetensors.Save(bf16, tensors, meta, asBFloat16: true);
            var report = JsonDocument.Parse(Python.Run(ReadBackScript, f32, f16, bf16)).RootElement;
            var torchConversions = report.GetProperty("torch");

            foreach (var (path, floatDType) in new[] { (f32, "F32"), (f16, "F16"), (bf16, "BF16") })
            {
                var entry = report.GetProperty(path);
                Assert.Equal(meta, entry.GetProperty("metadata").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!));
                if (floatDType != "BF16") Assert.True(entry.GetProperty("identical").GetBoolean(), $"{floatDType}: fixturelib writes different bytes for the same content");
                var read = entry.GetProperty("tensors");
                Assert.Equal(tensors.Keys.Order(), read.EnumerateObject().Select(p => p.Name).Order());
                foreach (var (name, t) in tensors)
                {
                    var r = read.GetProperty(name);
                    Assert.Equal(t.Shape, r.GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()).ToArray());
                    var bits = r.GetProperty("bits").EnumerateArray();
                    if (t.DType == DType.Int64)
                    {
                        Assert.Equal("I64", r.GetProperty("dtype").GetString());
                        Assert.Equal(t.ToLongArray(), bits.Select(e => e.GetInt64()).ToArray());
                        continue;
                    }
                    Assert.Equal(floatDType, r.GetProperty("dtype").GetString());
                    var got = bits.Select(e => e.GetUInt32()).ToArray();
                    var values = t.ToArray();
                    uint[] expected = floatDType switch
                    {
                        "F32" => values.Select(Bits).ToArray(),
                        "F16" => torchConversions.GetProperty(name).GetProperty("f16").EnumerateArray().Select(e => e.GetUInt32()).ToArray(),
                        _ => torchConversions.GetProperty(name).GetProperty("bf16").EnumerateArray().Select(e => e.GetUInt32()).ToArray(),
                    };
                    Assert.Equal(expected.Length, got.Length);
                    for (int i = 0; i < got.Length; i++)
                    {
                        // NaN payloads differ between converters (torch 1.13 makes 0xFFFF of a bfloat16 NaN); NaN-ness must not.
                        if (float.IsNaN(values[i])) Assert.True(floatDType == "F16" ? (got[i] & 0x7C00) == 0x7C00 && (got[i] & 0x3FF) != 0 : float.IsNaN(BitConverter.UInt32BitsToSingle(got[i])), $"{floatDType} {name}[{i}] is not NaN");
                        else Assert.True(expected[i] == got[i], $"{floatDType} {name}[{i}] ({values[i]}): bits 0x{got[i]:X}, torch gives 0x{expected[i]:X}");
                    }
                }
            }
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    private const string WriteScript = """
import json, sys
import numpy as np, torch
from fixturelib import save_safetensors
torch.manual_seed(int(sys.argv[2]))
t = {"w": torch.randn(3, 5) * 100, "half": torch.randn(4, 2).half(), "bf": torch.randn(7) * 1e-3, "s": torch.tensor(3.5), "e": torch.zeros(2, 0)}
ids = torch.randint(-2 ** 40, 2 ** 40, (6,))
arrays = {k: v.numpy() for k, v in t.items()}
arrays["ids"] = ids.numpy()
save_safetensors(sys.argv[1], arrays, {"seed": sys.argv[2]}, bf16=("bf",))
expected = dict(t, half=t["half"].float(), bf=t["bf"].to(torch.bfloat16).float())
print(json.dumps({"floats": {k: {"shape": list(v.shape), "bits": v.contiguous().numpy().view(np.uint32).ravel().tolist()} for k, v in expected.items()},
                  "ids": ids.tolist()}))
""";

    [PyTorchFact]
    public void WeReadWhatPythonWritesNow()
    {
        var path = Path.Combine(Path.GetTempPath(), $"crossdistill-py-{Environment.ProcessId}.safetensors");
        var report = JsonDocument.Parse(Python.Run(WriteScript, path, "17")).RootElement;
        var tensors = Safetensors.Load(path, out var metadata);
        try
        {
            Assert.Equal("17", metadata["seed"]);
            foreach (var f in report.GetProperty("floats").EnumerateObject())
            {
                var t = tensors[f.Name];
                Assert.Equal(DType.Float32, t.DType);
                Assert.Equal(f.Value.GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()).ToArray(), t.Shape);
                Assert.Equal(f.Value.GetProperty("bits").EnumerateArray().Select(e => e.GetUInt32()).ToArray(), t.ToArray().Select(Bits).ToArray());
            }
            Assert.Equal(report.GetProperty("ids").EnumerateArray().Select(e => e.GetInt64()).ToArray(), tensors["ids"].ToLongArray());
        }
        finally
        {
            foreach (var t in tensors.Values) t.Dispose();
            File.Delete(path);
        }
    }

    [Fact]
    public void RoundTripsThroughOurOwnWriterAndReader()
    {
        using var scope = DisposeScope.Enter();
        var path = Path.Combine(Path.GetTempPath(), $"crossdistill-rt-{Environment.ProcessId}.safetensors");
        var tensors = SampleTensors();
        Safetensors.Save(path, tensors, new Dictionary<string, string> { ["k"] = "v \"quoted\" é" });
        var back = Safetensors.Load(path, out var meta);
        File.Delete(path);
        Assert.Equal("v \"quoted\" é", meta["k"]);
        foreach (var (name, t) in tensors)
        {
            Assert.Equal(t.Shape, back[name].Shape);
            if (t.DType == DType.Int64) Assert.Equal(t.ToLongArray(), back[name].ToLongArray());
            else AssertFloats(t.ToArray(), back[name], name);
            back[name].Dispose();
        }
    }

    [Fact]
    public void AnEmptyTensorMayShareItsOffsetWithTheNextOneInAnyHeaderOrder()
    {
        // Writers order the header differently; a zero-length tensor at the start of another's data is valid.
        var path = Path.Combine(Path.GetTempPath(), $"crossdistill-order-{Environment.ProcessId}.safetensors");
        SafetensorsErrorTests.WriteRaw(path, "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"e\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]}}", new byte[8]);
        var tensors = Safetensors.Load(path);
        File.Delete(path);
        Assert.Equal(new[] { 2 }, tensors["a"].Shape);
        Assert.Equal(new[] { 0 }, tensors["e"].Shape);
        foreach (var t in tensors.Values) t.Dispose();
    }
}
