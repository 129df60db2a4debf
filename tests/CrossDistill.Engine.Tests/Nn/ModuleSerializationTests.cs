using System.Text.Json;
using CrossDistill.Engine.IO;
using CrossDistill.Engine.Nn;
using CrossDistill.TestSupport;

namespace CrossDistill.Engine.Tests.Nn;

public class ModuleSerializationTests
{
    private static string TempPath(string what) => Path.Combine(Path.GetTempPath(), $"crossdistill-module-{what}-{Environment.ProcessId}.safetensors");

    private static Sequential Mlp(ulong seed)
    {
        var g = new Generator(seed);
        return new Sequential(new BroadcastLinear(3, 4, g), new ReluLayer(), new BroadcastLinear(4, 2, g));
    }

    [Fact]
    public void SaveThenLoadRestoresParametersAndBuffers()
    {
        using var scope = DisposeScope.Enter();
        var path = TempPath("roundtrip");
        using var source = new Sequential(new Scale(3, 2f), new Scale(3, -0.5f));
        source.StateDict()["0.calls"].LongSpan[0] = 41;
        Init.Normal_(((Scale)source[1]).Bias, generator: new Generator(1));
        source.Save(path, new Dictionary<string, string> { ["epoch"] = "3" });

        using var target = new Sequential(new Scale(3), new Scale(3));
        var result = target.Load(path);
        Assert.Empty(result.MissingKeys);
        Assert.Empty(result.UnexpectedKeys);
        foreach (var (key, value) in source.StateDict())
        {
            if (value.DType == DType.Int64) Assert.Equal(value.ToLongArray(), target.StateDict()[key].ToLongArray());
            else Assert.Equal(value.ToArray(), target.StateDict()[key].ToArray());
        }
        Safetensors.Load(path, out var meta).Values.ToList().ForEach(t => t.Dispose());
        Assert.Equal("3", meta["epoch"]);
        File.Delete(path);
    }

    [Fact]
    public void LoadErrorsNameTheFile()
    {
        using var scope = DisposeScope.Enter();
        var path = TempPath("errors");
        using (var small = new Sequential(new Scale(3))) small.Save(path);

        using var bigger = new Sequential(new Scale(3), new Scale(3));
        var missing = Assert.Throws<StateDictException>(() => bigger.Load(path));
        Assert.Contains(path, missing.Message);
        Assert.Contains("missing keys: 1.weight, 1.bias, 1.calls", missing.Message);
        var lenient = bigger.Load(path, strict: false);
        Assert.Equal(new[] { "1.weight", "1.bias", "1.calls" }, lenient.MissingKeys);

        using var wrongShape = new Sequential(new Scale(4));
        var mismatch = Assert.Throws<StateDictException>(() => wrongShape.Load(path, strict: false));
        Assert.Contains(path, mismatch.Message);
        Assert.Contains("0.weight: expected [4], got [3]", mismatch.Message);

        File.WriteAllBytes(path, new byte[] { 1, 2, 3 });
        var corrupt = Assert.Throws<SafetensorsException>(() => bigger.Load(path));
        Assert.Contains(path, corrupt.Message);
        File.Delete(path);
        Assert.Contains(path, Assert.Throws<FileNotFoundException>(() => bigger.Load(path)).Message);

        var nowhere = Path.Combine(Path.GetTempPath(), $"crossdistill-no-such-dir-{Environment.ProcessId}", "model.safetensors");
        Assert.Contains(nowhere, Assert.ThrowsAny<IOException>(() => bigger.Save(nowhere)).Message);
    }

    private const string TorchMlpScript = """
import json, sys
import numpy as np, torch
from fixturelib import load_safetensors, save_safetensors
torch.manual_seed(5)
model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
x = torch.from_numpy(np.array(json.loads(sys.argv[3]), dtype=np.float32))
if sys.argv[1] == "save":
    save_safetensors(sys.argv[2], {k: v.numpy() for k, v in model.state_dict().items()}, {"from": "torch"})
else:
    arrays, _ = load_safetensors(sys.argv[2])
    model.load_state_dict({k: torch.from_numpy(v) for k, v in arrays.items()}, strict=True)
with torch.no_grad():
    print(json.dumps(model(x).numpy().ravel().tolist()))
""";

    [PyTorchFact]
    public void StateDictsMoveBetweenTorchAndUs()
    {
        using var scope = DisposeScope.Enter();
        var path = TempPath("torch");
        var x = Torch.Randn(new[] { 5, 3 }, new Generator(2));
        var xJson = JsonSerializer.Serialize(Enumerable.Range(0, 5).Select(i => x.Select(0, i).ToArray()));
        float[] Output(string mode) => JsonDocument.Parse(Python.Run(TorchMlpScript, mode, path, xJson)).RootElement.EnumerateArray().Select(e => e.GetSingle()).ToArray();
        try
        {
            // torch → us: same keys ("0.weight", "2.bias"), same outputs.
            var torchOut = Output("save");
            using var model = Mlp(seed: 9);
            model.Load(path);
            TensorAssert.Close(torchOut, model.Call(x), what: "our forward with torch's weights");

            // us → torch: change the weights, save, and torch's strict load must reproduce our forward.
            Init.Uniform_(((BroadcastLinear)model[2]).Weight, -0.3, 0.3, new Generator(3));
            model.Save(path);
            TensorAssert.Close(Output("load"), model.Call(x), what: "torch's forward with our weights");
        }
        finally
        {
            File.Delete(path);
        }
    }
}
