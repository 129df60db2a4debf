using System.Text.Json;
using CrossDistill.Engine.IO;
using CrossDistill.Models;
using CrossDistill.Training.Distillers;
using CrossDistill.Training.Metrics;
using CrossDistill.Training.Tests.Support;

namespace CrossDistill.Training.Tests;

/// <summary>The distillers' loss terms and their gradients against PyTorch, and the AUROC against scikit-learn (tools/fixtures/gen_training.py).</summary>
public class DistillerLossTests
{
    private static readonly Lazy<(Dictionary<string, Tensor> Tensors, Dictionary<string, string> Meta)> Fixture = new(() =>
    {
        var tensors = Safetensors.Load(Repo.Fixtures("training", "training.safetensors"), out var meta);
        return (tensors, meta);
    });

    public static IEnumerable<object[]> LossCases() => Fixture.Value.Meta.Keys.Where(k => k.StartsWith("loss.", StringComparison.Ordinal)).Order().Select(k => new object[] { k[5..] });

    public static IEnumerable<object[]> AurocCases() => Fixture.Value.Meta.Keys.Where(k => k.StartsWith("auroc.", StringComparison.Ordinal)).Order().Select(k => new object[] { k[6..] });

    private static Distiller Build(string method, JsonElement spec, Tensor teacherLogits, int classes)
    {
        var student = new IdentityLogits(classes);
        float smoothing = spec.GetProperty("label_smoothing").GetSingle();
        if (method == "vanilla")
            return new Vanilla(new DistillerSetup(student, Array.Empty<VisionModel>(), classes, 1, smoothing, () => new IdentityLogits(classes)));
        var p = new KD.Params
        {
            Temperature = spec.GetProperty("temperature").GetSingle(),
            Alpha = spec.GetProperty("alpha").GetSingle(),
            CeWeight = spec.GetProperty("ce_weight").GetSingle(),
        };
        return new KD(new DistillerSetup(student, new VisionModel[] { new FixedLogits(teacherLogits) }, classes, 1, smoothing, () => new IdentityLogits(classes)), p);
    }

    [Theory]
    [MemberData(nameof(LossCases))]
    public void LossTermsAndGradientMatchPyTorch(string name)
    {
        var (tensors, meta) = Fixture.Value;
        var spec = JsonDocument.Parse(meta["loss." + name]).RootElement;
        var studentLogits = tensors[name + ".student"];
        var target = tensors[name + ".target"];
        int classes = studentLogits.Shape[1];
        using var scope = DisposeScope.Enter();
        var distiller = Build(spec.GetProperty("method").GetString()!, spec, tensors[name + ".teacher"], classes);
        var leaf = OpFixtures.Leaf(studentLogits, requiresGrad: true);
        var batch = target.DType == DType.Int64
            ? new DistillBatch(leaf, target, null, Enumerable.Range(0, leaf.Shape[0]).ToArray())
            : new DistillBatch(leaf, Torch.Zeros(new[] { leaf.Shape[0] }, DType.Int64), target, Enumerable.Range(0, leaf.Shape[0]).ToArray());
        var output = distiller.ForwardTrain(batch, new StepContext(0, 1, 0, 0, 1, new Generator(0)));

        var expected = spec.GetProperty("losses").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetDouble());
        Assert.Equal(expected.Keys.Order(), output.Losses.Keys.Order());
        foreach (var (term, value) in expected)
            Assert.True(Math.Abs(output.Losses[term].Item() - value) <= 1e-5 * Math.Max(1, Math.Abs(value)), $"{name} {term}: expected {value}, got {output.Losses[term].Item()}");
        output.Total().Backward();
        TensorAssert.Close(tensors[name + ".grad"], leaf.Grad!, rtol: 1e-4f, atol: 1e-6f, what: name + " gradient");
    }

    [Fact]
    public void KdLossGradientMatchesFiniteDifferences()
    {
        var student = Torch.Randn(new[] { 5, 6 }, new Generator(1)) * 2f;
        var teacher = Torch.Randn(new[] { 5, 6 }, new Generator(2)) * 2f;
        GradCheck.Check(x => KD.KdLoss(x[0], x[1], 3f), new[] { student, teacher });
    }

    [Fact]
    public void TheTeacherStaysFrozenAndInEvalMode()
    {
        var teacher = ModelZoo.Create("tiny_cnn", new ModelConfig { NumClasses = 3, ImageSize = 16 });
        var student = ModelZoo.Create("tiny_cnn", new ModelConfig { NumClasses = 3, ImageSize = 16 });
        var setup = new DistillerSetup(student, new VisionModel[] { teacher }, 3, 10, 0, () => ModelZoo.Create("tiny_cnn", new ModelConfig { NumClasses = 3, ImageSize = 16 }));
        using var kd = new KD(setup, new KD.Params());
        kd.Train();
        Assert.True(student.Training);
        Assert.False(teacher.Training);
        Assert.All(teacher.Parameters(), p => Assert.False(p.RequiresGrad));
        Assert.Equal(student.ParameterCount(), kd.TrainableParameters().Sum(p => (long)p.Parameter.Numel));
        Assert.Equal(0, kd.ExtraParameterCount());
        Assert.DoesNotContain(kd.StateDict().Keys, k => !k.StartsWith("student.", StringComparison.Ordinal));
        teacher.Dispose();
    }

    [Theory]
    [MemberData(nameof(AurocCases))]
    public void MacroAurocMatchesScikitLearn(string name)
    {
        var (tensors, meta) = Fixture.Value;
        double expected = JsonDocument.Parse(meta["auroc." + name]).RootElement.GetProperty("expected").GetDouble();
        var scores = tensors[name + ".scores"];
        var labels = tensors[name + ".labels"].ToLongArray();
        int classes = scores.Shape[1];
        double actual;
        if (classes == 2)
        {
            var s = scores.ToArray();
            actual = Auroc.Binary(Enumerable.Range(0, labels.Length).Select(i => (double)s[2 * i + 1]).ToArray(), labels.Select(l => l == 1).ToArray());
        }
        else
        {
            var metrics = new ClassificationMetrics(classes);
            metrics.Add(scores.ToArray(), labels);
            actual = metrics.MacroAuroc();
        }
        Assert.Equal(expected, actual, 9);
    }
}
