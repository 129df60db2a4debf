using System.Text.Json;
using CrossDistill.Engine.IO;
using CrossDistill.Engine.Nn;
using CrossDistill.Models;

namespace CrossDistill.Models.Tests;

/// <summary>
/// One reference case written by tools/fixtures/gen_models_vit.py: a model's state dict under its
/// library's names, an input, the float64 logits and stage features, and the gradients of some
/// parameters for sum(logits · G).
/// </summary>
public sealed class TransformerModelFixture : IDisposable
{
    private readonly Dictionary<string, Tensor> _tensors;

    private TransformerModelFixture(Dictionary<string, Tensor> tensors, JsonElement meta)
    {
        _tensors = tensors;
        Meta = meta;
        State = tensors.Where(kv => kv.Key.StartsWith("state.", StringComparison.Ordinal)).ToDictionary(kv => kv.Key["state.".Length..], kv => kv.Value);
        Gradients = tensors.Where(kv => kv.Key.StartsWith("grad.", StringComparison.Ordinal)).ToDictionary(kv => kv.Key["grad.".Length..], kv => kv.Value);
    }

    public JsonElement Meta { get; }
    public Dictionary<string, Tensor> State { get; }
    public Dictionary<string, Tensor> Gradients { get; }
    public Tensor Input => _tensors["input"];
    public Tensor Logits => _tensors["logits"];
    public Tensor GradOutput => _tensors["grad_output"];
    public Tensor Feature(int i) => _tensors[$"feature{i}"];

    /// <summary>A committed case from tests/fixtures/models.</summary>
    public static TransformerModelFixture Load(string name) => LoadFile(Repo.Fixtures("models", name + ".safetensors"));

    public static TransformerModelFixture LoadFile(string path)
    {
        var tensors = Safetensors.Load(path, out var metadata);
        foreach (var t in tensors.Values) t.DetachFromScopes();
        return new TransformerModelFixture(tensors, JsonDocument.Parse(metadata["case"]).RootElement.Clone());
    }

    /// <summary>
    /// Loads the state strictly (so every name must match the library's), then checks the eval-mode
    /// logits and features (and the feature shapes against the model's specs), then the train-mode
    /// parameter gradients when the case has them.
    /// </summary>
    public void Check(VisionModel model, float rtol = 1e-4f, float atol = 1e-5f)
    {
        model.LoadStateDict(State, strict: true, source: "the fixture");
        model.Eval();
        using (var scope = DisposeScope.Enter())
        using (GradMode.NoGrad())
        {
            var output = model.ForwardFeatures(Input);
            TensorAssert.Close(Logits, output.Logits, rtol, atol, "logits");
            var specs = model.StageOutputSpecs;
            for (int i = 0; i < 4; i++)
            {
                Assert.Equal(specs[i].Shape, output.Features[i].Shape[1..]);
                TensorAssert.Close(Feature(i), output.Features[i], rtol, atol, $"feature {i}");
            }
        }
        if (Gradients.Count == 0) return;

        model.Train();
        using (var scope = DisposeScope.Enter())
        {
            var logits = model.Forward(Input);
            (logits * GradOutput).Sum().Backward();
            var parameters = model.NamedParameters().ToDictionary(p => p.Name, p => p.Parameter);
            foreach (var (name, expected) in Gradients)
            {
                Assert.True(parameters.TryGetValue(name, out var p), $"the model has no parameter '{name}'");
                Assert.True(p!.Grad is not null, $"'{name}' got no gradient");
                TensorAssert.Close(expected, p.Grad!, rtol * 10, atol * 10, $"gradient of {name}");
            }
        }
        model.ZeroGrad();
    }

    public void Dispose()
    {
        foreach (var t in _tensors.Values) t.Dispose();
    }
}
