using System.Text.Json;
using CrossDistill.Engine.IO;
using CrossDistill.Engine.Nn;

namespace CrossDistill.Models.Tests;

/// <summary>Weight files: strict loading with one error naming every problem and the file, and round trips to the engine and to torchvision.</summary>
public class CnnWeightsTests
{
    private static string TempPath(string what) => Path.Combine(Path.GetTempPath(), $"crossdistill-cnn-{what}-{Environment.ProcessId}-{Guid.NewGuid():N}.safetensors");

    private static ModelConfig SmallResNet => new() { NumClasses = 5, ImageSize = 16, Options = new Dictionary<string, double> { ["width"] = 2 } };

    [Fact]
    public void LoadErrorsListEveryProblemAndNameTheFile()
    {
        using var scope = DisposeScope.Enter();
        var path = TempPath("errors");
        try
        {
            using (var source = ModelZoo.Create("resnet18_cifar", SmallResNet)) source.SaveWeights(path);
            var state = Safetensors.Load(path);
            state["fc.bias"].Dispose();
            state.Remove("fc.bias");
            state["extra.weight"] = Torch.Zeros(3).DetachFromScopes();
            state["conv1.weight"].Dispose();
            state["conv1.weight"] = Torch.Zeros(2, 3, 5, 5).DetachFromScopes();
            Safetensors.Save(path, state);
            foreach (var t in state.Values) t.Dispose();

            using var target = ModelZoo.Create("resnet18_cifar", SmallResNet);
            var before = target.StateDict()["layer1.0.conv1.weight"].ToArray();
            var e = Assert.Throws<StateDictException>(() => target.LoadWeights(path));
            Assert.Contains(path, e.Message);
            Assert.Contains("conv1.weight: expected [2, 3, 3, 3], got [2, 3, 5, 5]", e.Message);
            Assert.Contains("missing keys: fc.bias", e.Message);
            Assert.Contains("unexpected keys: extra.weight", e.Message);
            Assert.Equal(new[] { "fc.bias" }, e.MissingKeys);
            Assert.Equal(new[] { "extra.weight" }, e.UnexpectedKeys);
            Assert.Single(e.ShapeMismatches);
            // Nothing is copied from a file that does not fit.
            Assert.Equal(before, target.StateDict()["layer1.0.conv1.weight"].ToArray());
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void WeightsFromAnotherArchitectureAreRefused()
    {
        using var scope = DisposeScope.Enter();
        var path = TempPath("other");
        try
        {
            using (var mobilenet = ModelZoo.Create("mobilenet_v2", new ModelConfig { Options = new Dictionary<string, double> { ["width_mult"] = 0.1 } })) mobilenet.SaveWeights(path);
            using var resnet = ModelZoo.Create("resnet18_cifar", SmallResNet);
            var e = Assert.Throws<StateDictException>(() => resnet.LoadWeights(path));
            Assert.Contains(path, e.Message);
            Assert.Contains("features.0.0.weight", e.UnexpectedKeys);
            Assert.Contains("layer1.0.conv1.weight", e.MissingKeys);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void SavedWeightsReproduceTheModel()
    {
        using var scope = DisposeScope.Enter();
        var path = TempPath("roundtrip");
        try
        {
            var images = Torch.Randn(new[] { 2, 3, 16, 16 }, new Generator(3));
            using var source = ModelZoo.Create("resnet18_cifar", SmallResNet);
            source.Forward(images); // train mode: moves the running statistics away from their init
            source.SaveWeights(path);
            Safetensors.Load(path, out var metadata).Values.ToList().ForEach(t => t.Dispose());
            Assert.Equal("resnet18_cifar", metadata["architecture"]);

            using var copy = ModelZoo.Create("resnet18_cifar", SmallResNet);
            copy.LoadWeights(path);
            source.Eval();
            copy.Eval();
            using var noGrad = GradMode.NoGrad();
            Assert.Equal(source.Forward(images).ToArray(), copy.Forward(images).ToArray());
            Assert.Equal(source.StateDict()["layer4.1.bn2.num_batches_tracked"].ToLongArray(), copy.StateDict()["layer4.1.bn2.num_batches_tracked"].ToLongArray());
        }
        finally
        {
            File.Delete(path);
        }
    }

    private const string TorchForwardScript = """
import json, sys, torch
torch.set_num_threads(2)
import gen_models_cnn
for spec, weights, inputs, out in json.loads(sys.argv[1]):
    gen_models_cnn.forward(json.dumps(spec), weights, inputs, out)
""";

    public static readonly (string Preset, Dictionary<string, double> Options, int InChannels, int Size)[] ExportCases =
    {
        ("resnet18", new() { ["width"] = 4 }, 3, 40),
        ("resnet50_cifar", new() { ["width"] = 2 }, 1, 12),
        ("mobilenet_v2_cifar", new() { ["width_mult"] = 0.25 }, 3, 16),
        ("densenet121", new() { ["growth_rate"] = 4, ["num_init_features"] = 8 }, 3, 40),
        ("convnext_tiny", new() { ["dim"] = 8, ["depth_multiplier"] = 1.0 / 3 }, 2, 32),
    };

    [TorchvisionFact]
    public void ExportedWeightsLoadStrictlyIntoTorchvisionAndAgree()
    {
        using var scope = DisposeScope.Enter();
        var dir = Path.Combine(Path.GetTempPath(), $"crossdistill-cnn-export-{Environment.ProcessId}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        try
        {
            var jobs = new List<object[]>();
            var models = new List<(VisionModel Model, Tensor Images)>();
            var g = new Generator(11);
            foreach (var (preset, options, inChannels, size) in ExportCases)
            {
                var config = new ModelConfig { NumClasses = 6, InChannels = inChannels, ImageSize = size, Options = options };
                var model = ModelZoo.Create(preset, config);
                var images = Torch.Randn(new[] { 2, inChannels, size, size }, g);
                // Away from the init values, so that every tensor's values matter: running statistics
                // from a train-mode pass, and visible ConvNeXt blocks instead of 1e-6 layer scales.
                foreach (var (name, p) in model.NamedParameters().Where(p => p.Name.EndsWith("layer_scale", StringComparison.Ordinal)))
                    Init.Uniform_(p, 0.3, 1.0, g);
                using (GradMode.NoGrad()) model.Forward(images);
                model.Eval();
                string weights = Path.Combine(dir, preset + ".safetensors"), inputs = Path.Combine(dir, preset + ".input.safetensors");
                model.SaveWeights(weights);
                Safetensors.Save(inputs, new Dictionary<string, Tensor> { ["input"] = images });
                var spec = new Dictionary<string, object> { ["preset"] = preset, ["num_classes"] = 6, ["in_channels"] = inChannels, ["options"] = options };
                jobs.Add(new object[] { spec, weights, inputs, Path.Combine(dir, preset + ".out.safetensors") });
                models.Add((model, images));
            }
            Python.Run(TorchForwardScript, JsonSerializer.Serialize(jobs));

            for (int i = 0; i < models.Count; i++)
            {
                var (model, images) = models[i];
                var preset = ExportCases[i].Preset;
                var expected = Safetensors.Load(Path.Combine(dir, preset + ".out.safetensors"));
                using (GradMode.NoGrad())
                {
                    var output = model.ForwardFeatures(images);
                    CnnReference.Close(expected["logits"], output.Logits, 1e-4f, $"{preset} logits");
                    for (int f = 0; f < 4; f++) CnnReference.Close(expected[$"feature{f}"], output.Features[f], 1e-4f, $"{preset} feature {f}");
                }
                foreach (var t in expected.Values) t.Dispose();
                model.Dispose();
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
