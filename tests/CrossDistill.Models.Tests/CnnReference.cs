using System.Text.Json;
using CrossDistill.Engine.IO;
using CrossDistill.Engine.Nn;

namespace CrossDistill.Models.Tests;

/// <summary>
/// Checks a zoo CNN against a case written by tools/fixtures/gen_models_cnn.py: NAME.safetensors (a
/// torchvision state dict, loaded with <see cref="Weights.LoadWeights"/>) and NAME.io.safetensors
/// (input, eval-mode logits and stage features, and optionally one train-mode step).
/// </summary>
internal static class CnnReference
{
    public static string SmallDir => Repo.Fixtures("models", "cnn");

    public static IEnumerable<object[]> SmallCases() => Directory.GetFiles(SmallDir, "*.io.safetensors")
        .Select(p => Path.GetFileName(p)[..^".io.safetensors".Length]).Order(StringComparer.Ordinal).Select(n => new object[] { n });

    /// <summary>The zoo model for a generator spec, with the config's image size set to the input's.</summary>
    public static VisionModel Build(string specJson, int imageSize)
    {
        var spec = JsonDocument.Parse(specJson).RootElement;
        var options = spec.TryGetProperty("options", out var o)
            ? o.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetDouble())
            : new Dictionary<string, double>();
        var config = new ModelConfig
        {
            NumClasses = spec.GetProperty("num_classes").GetInt32(),
            InChannels = spec.GetProperty("in_channels").GetInt32(),
            ImageSize = imageSize,
            Options = options,
        };
        return ModelZoo.Create(spec.GetProperty("preset").GetString()!, config);
    }

    /// <summary>Within <paramref name="tol"/> relative to each element and to the tensor's largest magnitude.</summary>
    public static void Close(Tensor expected, Tensor actual, float tol, string what)
    {
        float scale = expected.ToArray().Select(MathF.Abs).DefaultIfEmpty(0f).Max();
        TensorAssert.Close(expected, actual, rtol: tol, atol: tol * Math.Max(scale, 1e-6f), what);
    }

    /// <summary>Stage features are NCHW-shaped, stored channels-last, and shaped as the model's specs say.</summary>
    public static void CheckFeatures(VisionModel model, ModelOutput output, int batch, string what)
    {
        var specs = model.StageOutputSpecs;
        for (int i = 0; i < 4; i++)
        {
            var f = output.Features[i];
            Assert.Equal(new[] { batch }.Concat(specs[i].Shape).ToArray(), f.Shape);
            Assert.True(f.IsChannelsLast, $"{what}: stage {i} feature of shape {ShapeUtil.Format(f.Shape)} has strides {ShapeUtil.Format(f.Strides)}, not channels-last");
        }
    }

    /// <summary>Loads the case, checks eval-mode logits and features (and the train step when recorded) within <paramref name="tol"/>.</summary>
    public static void Check(string dir, string name, float tol, float gradTol)
    {
        using var scope = DisposeScope.Enter();
        var io = Safetensors.Load(Path.Combine(dir, name + ".io.safetensors"), out var meta);
        try
        {
            var input = io["input"];
            using var model = Build(meta["spec"], input.Shape[2]);
            model.LoadWeights(Path.Combine(dir, meta["weights"]));

            model.Eval();
            using (GradMode.NoGrad())
            {
                var output = model.ForwardFeatures(input);
                Close(io["logits"], output.Logits, tol, $"{name} logits");
                for (int i = 0; i < 4; i++) Close(io[$"feature{i}"], output.Features[i], tol, $"{name} feature {i}");
                CheckFeatures(model, output, input.Shape[0], name);
            }

            if (!meta.TryGetValue("grads", out var gradsJson)) return;
            model.Train();
            var train = model.ForwardFeatures(input);
            Close(io["train.logits"], train.Logits, tol, $"{name} train-mode logits");
            (train.Logits * io["train.G"]).Sum().Backward();
            var parameters = model.NamedParameters().ToDictionary(p => p.Name, p => p.Parameter);
            var names = JsonSerializer.Deserialize<string[]>(gradsJson)!;
            Assert.NotEmpty(names);
            foreach (var param in names)
            {
                Assert.True(parameters.TryGetValue(param, out var p), $"{name}: no parameter named {param}");
                Assert.NotNull(p!.Grad);
                Close(io["grad." + param], p.Grad!, gradTol, $"{name} gradient of {param}");
            }
            var state = model.StateDict();
            foreach (var key in io.Keys.Where(k => k.StartsWith("after.", StringComparison.Ordinal)))
                Close(io[key], state[key["after.".Length..]], tol, $"{name} {key}");
        }
        finally
        {
            foreach (var t in io.Values) t.Dispose();
        }
    }
}
