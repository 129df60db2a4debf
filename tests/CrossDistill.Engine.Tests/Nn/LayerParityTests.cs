using System.Text.Json;
using CrossDistill.Engine.Nn;
using CrossDistill.TestSupport;

namespace CrossDistill.Engine.Tests.Nn;

/// <summary>
/// Each layer against the torch.nn module of tools/fixtures/gen_layers.py: our module loads
/// PyTorch's state_dict strictly and exports the same keys in the same order, gives the same
/// output (and running statistics), and the same input and parameter gradients for
/// loss = sum(out · G).
/// </summary>
public class LayerParityTests
{
    private const string File = "layers";

    public static IEnumerable<object[]> Cases => OpFixtures.CaseNames(File);

    private static int[] Ints(JsonElement e) => e.EnumerateArray().Select(v => v.GetInt32()).ToArray();

    /// <summary>Our counterpart of the fixture's torch.nn module.</summary>
    private static Module Build(OpCase c)
    {
        var a = c.Args;
        return c.Op switch
        {
            "Linear" => new Linear(c.Int("in"), c.Int("out"), c.Bool("bias")),
            "Conv2d" => new Conv2d(c.Int("in"), c.Int("out"), c.Ints("kernel")!, c.Ints("stride"), c.Ints("padding"), c.Ints("dilation"), c.Int("groups"), c.Bool("bias")),
            "BatchNorm1d" => new BatchNorm1d(c.Int("features"), c.Float("eps"), c.Float("momentum"), c.Bool("affine"), c.Bool("track")),
            "BatchNorm2d" => new BatchNorm2d(c.Int("features"), c.Float("eps"), c.Float("momentum"), c.Bool("affine"), c.Bool("track")),
            "LayerNorm" => new LayerNorm(c.Ints("shape")!, c.Float("eps"), c.Bool("affine")),
            "GroupNorm" => new GroupNorm(c.Int("groups"), c.Int("channels"), c.Float("eps"), c.Bool("affine")),
            "Embedding" => new Embedding(c.Int("num"), c.Int("dim")),
            "MultiheadAttention" => new MultiheadAttention(c.Int("embed"), c.Int("heads"), c.Bool("bias")),
            "GELU" => new GELU(c.Str("approximate")!),
            "ReLU" => new ReLU(),
            "ReLU6" => new ReLU6(),
            "SiLU" => new SiLU(),
            "Sigmoid" => new Sigmoid(),
            "Tanh" => new Tanh(),
            "Hardswish" => new Hardswish(),
            "Hardsigmoid" => new Hardsigmoid(),
            "LeakyReLU" => new LeakyReLU(c.Float("slope")),
            "ELU" => new ELU(c.Float("alpha")),
            "Softplus" => new Softplus(),
            "Softmax" => new Softmax(c.Int("dim")),
            "LogSoftmax" => new LogSoftmax(c.Int("dim")),
            "MaxPool2d" => new MaxPool2d(c.Ints("kernel")!, c.Ints("stride"), c.Ints("padding"), c.Ints("dilation"), c.Bool("ceil")),
            "AvgPool2d" => new AvgPool2d(c.Ints("kernel")!, c.Ints("stride"), c.Ints("padding"), c.Bool("ceil"), c.Bool("include_pad", true)),
            "AdaptiveAvgPool2d" => new AdaptiveAvgPool2d(c.Ints("out")![0], c.Ints("out")![1]),
            "AdaptiveMaxPool2d" => new AdaptiveMaxPool2d(c.Ints("out")![0], c.Ints("out")![1]),
            "Flatten" => new Flatten(c.Int("start"), c.Int("end")),
            "Dropout" => new Dropout(c.Float("p")),
            "SequentialCnn" => new Sequential(new Conv2d(3, 4, 3, padding: 1), new BatchNorm2d(4), new ReLU(), new MaxPool2d(2), new Flatten(), new Linear(4 * 3 * 3, 5)),
            _ => throw new InvalidOperationException($"No layer for fixture op '{c.Op}' ({a})."),
        };
    }

    private static Tensor Run(Module module, OpCase c, Tensor[] data) => module switch
    {
        MultiheadAttention mha when c.Bool("self") => mha.Forward(data[0], data[0], data[0], c.Bool("mask") ? data[1] : null),
        MultiheadAttention mha => mha.Forward(data[0], data[1], data[2], c.Bool("mask") ? data[3] : null),
        Module<Tensor, Tensor> layer => layer.Call(data[0]),
        _ => throw new InvalidOperationException($"Cannot run {module.GetType().Name}."),
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void MatchesPyTorch(string name)
    {
        var c = OpFixtures.Get(File, name);
        using var scope = DisposeScope.Enter();
        int nData = c.Int("n_data"), calls = c.Int("calls");
        var keys = c.Args.GetProperty("state_keys").EnumerateArray().Select(k => k.GetString()!).ToArray();
        var state = keys.Select((k, j) => (k, c.Inputs[nData + j])).ToDictionary(kv => kv.k, kv => kv.Item2);

        using var module = Build(c);
        Assert.Equal(keys, module.StateDict().Keys.ToArray());
        module.LoadStateDict(state, strict: true);
        module.Train(c.Bool("train"));

        var data = c.Inputs.Take(nData).Select((t, i) => OpFixtures.Leaf(t, c.GradInputs[i] is not null)).ToArray();
        Tensor output;
        if (calls == 2)
        {
            Run(module, c, data[..1]);
            output = Run(module, c, data[1..]);
        }
        else output = Run(module, c, data);
        TensorAssert.Close(c.Outputs[0], output, 1e-5f, 1e-6f, $"{name}: output");

        var buffers = module.NamedBuffers().ToDictionary(b => b.Name, b => b.Buffer);
        var after = c.Args.GetProperty("buffers_after").EnumerateArray().Select(k => k.GetString()!).ToArray();
        for (int i = 0; i < after.Length; i++)
            TensorAssert.Close(c.Outputs[1 + i], buffers[after[i]], 1e-5f, 1e-6f, $"{name}: {after[i]} after {calls} call(s)");

        (output * c.GradOutputs[0]!).Sum().Backward();
        for (int i = 0; i < nData; i++)
        {
            if (c.GradInputs[i] is not { } expected) continue;
            Assert.True(data[i].Grad is not null, $"{name}: input {i} got no gradient");
            TensorAssert.Close(expected, data[i].Grad!, 1e-4f, 1e-5f, $"{name}: gradient of input {i}");
        }
        var parameters = module.NamedParameters().ToDictionary(p => p.Name, p => p.Parameter);
        for (int j = 0; j < keys.Length; j++)
        {
            if (!parameters.TryGetValue(keys[j], out var p)) continue;
            var expected = c.GradInputs[nData + j];
            Assert.True(expected is not null, $"{name}: PyTorch has no gradient for parameter {keys[j]}");
            Assert.True(p.Grad is not null, $"{name}: parameter {keys[j]} got no gradient");
            TensorAssert.Close(expected!, p.Grad!, 1e-4f, 1e-5f, $"{name}: gradient of {keys[j]}");
        }
        foreach (var d in data) d.Grad?.Dispose();
    }

    [Fact]
    public void AttentionInputGradientsMatchFiniteDifferences()
    {
        using var scope = DisposeScope.Enter();
        Torch.ManualSeed(31);
        var g = new Generator(31);
        using var mha = new MultiheadAttention(6, 2);
        foreach (var p in mha.Parameters()) Init.Uniform_(p, -0.6, 0.6, g);
        var x = Torch.Randn(new[] { 2, 4, 6 }, g);
        var memory = Torch.Randn(new[] { 2, 3, 6 }, g);
        var mask = Torch.Randn(new[] { 4, 3 }, g);
        GradCheck.Check(t => mha.Forward(t[0]), new[] { x });
        GradCheck.Check(t => mha.Forward(t[0], t[1], t[2], t[3]), new[] { x, memory, Torch.Randn(new[] { 2, 3, 6 }, g), mask });
    }

    [Fact]
    public void NormalisationLayerGradientsMatchFiniteDifferences()
    {
        using var scope = DisposeScope.Enter();
        var g = new Generator(32);
        using var bn = new BatchNorm2d(3);
        using var bn1d = new BatchNorm1d(4);
        using var ln = new LayerNorm(new[] { 2, 3 });
        using var gn = new GroupNorm(2, 4);
        GradCheck.Check(t => bn.Call(t[0]), new[] { Torch.Randn(new[] { 2, 3, 3, 2 }, g).ContiguousChannelsLast() });
        GradCheck.Check(t => bn1d.Call(t[0]), new[] { Torch.Randn(new[] { 3, 4, 2 }, g) });
        GradCheck.Check(t => ln.Call(t[0]), new[] { Torch.Randn(new[] { 2, 2, 3 }, g) });
        GradCheck.Check(t => gn.Call(t[0]), new[] { Torch.Randn(new[] { 2, 4, 3 }, g) });
    }

    [Fact]
    public void BadInputsAndArgumentsNameTheLayer()
    {
        using var scope = DisposeScope.Enter();
        void Throws(Action act, params string[] parts)
        {
            var e = Assert.ThrowsAny<ArgumentException>(act);
            foreach (var p in parts) Assert.Contains(p, e.Message);
        }
        using var bn2 = new BatchNorm2d(3);
        Throws(() => bn2.Call(Torch.Zeros(2, 3, 4)), "BatchNorm2d", "4-D", "[2, 3, 4]");
        using var bn1 = new BatchNorm1d(3);
        Throws(() => bn1.Call(Torch.Zeros(2, 5)), "BatchNorm1d", "[2, 5]");
        using var mha = new MultiheadAttention(8, 2);
        Throws(() => mha.Forward(Torch.Zeros(2, 3, 6)), "MultiheadAttention", "embed_dim 8", "[2, 3, 6]");
        Throws(() => mha.Forward(Torch.Zeros(2, 3, 8), Torch.Zeros(2, 4, 8), Torch.Zeros(2, 5, 8)), "MultiheadAttention", "[2, 5, 8]");
        Throws(() => mha.Forward(Torch.Zeros(2, 3, 8), Torch.Zeros(2, 4, 8), Torch.Zeros(2, 4, 8), Torch.Zeros(4, 3)), "attnMask", "(3, 4)", "[4, 3]");
        Throws(() => new MultiheadAttention(10, 3), "embed_dim 10", "num_heads 3");
        Throws(() => new Conv2d(4, 6, 3, groups: 4), "Conv2d", "groups 4");
        Throws(() => new Conv2d(4, 6, new[] { 3, 3, 3 }), "Conv2d", "kernelSize");
        Throws(() => new MaxPool2d(new[] { 2, 2, 2 }), "MaxPool2d", "kernelSize");
        Throws(() => new AdaptiveAvgPool2d(0, 2), "AdaptiveAvgPool2d", "(0, 2)");
        Throws(() => new GELU("fast"), "GELU", "fast");
    }

    [Fact]
    public void EveryLayerKindHasACase()
    {
        var kinds = OpFixtures.Load(File).Select(c => c.Op).ToHashSet();
        foreach (var kind in new[]
        {
            "Linear", "Conv2d", "BatchNorm1d", "BatchNorm2d", "LayerNorm", "GroupNorm", "Embedding", "MultiheadAttention", "GELU",
            "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d", "AdaptiveMaxPool2d", "Flatten", "SequentialCnn",
        })
            Assert.Contains(kind, kinds);
    }
}
