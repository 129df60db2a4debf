using System.Text.Json;
using CrossDistill.Models;
using CrossDistill.Training.Distillers;

namespace CrossDistill.Training.Tests.Pat;

/// <summary>
/// The whole PAT method against the PyTorch reference over two training steps with an SGD update
/// in between (so the second step runs on the first step's feedback and on non-zero prompt weights):
/// a CNN teacher with a ViT student and a ViT teacher with a CNN student, corrected and
/// as_published, with RAA and with FitNet-style aligners, a subset of prompted stages, feedback off
/// and a detached feature target. Compares the four loss terms, the per-stage HCL, the student's and
/// the prompted teacher's logits, and the gradients of parameters of RAA, the aligners, the prompts
/// (β, convolutions, SE), the feedback aligners and the student.
/// </summary>
public sealed class PatScenarioParityTests
{
    private const float Rtol = 1e-4f, Atol = 1e-5f;

    public static IEnumerable<object[]> Scenarios => PatFixture.Cases("scenario");

    internal static (VisionModel Teacher, VisionModel Student) Pair(string pair) => pair switch
    {
        "cnn2vit" => (new TinyCnn(8, new[] { 8, 12, 12, 16 }, new[] { 1, 2, 2, 2 }), new TinyVit(12, 2)),
        "vit2cnn" => (new TinyVit(8, 2), new TinyCnn(8, new[] { 8, 16, 16, 24 }, new[] { 1, 2, 2, 2 })),
        _ => throw new ArgumentException(pair),
    };

    internal static PatOptions Options(JsonElement o) => new()
    {
        NumQueries = o.GetProperty("nq").GetInt32(),
        Dim = o.GetProperty("d").GetInt32(),
        Heads = o.GetProperty("heads").GetInt32(),
        AfpStages = PatFixture.Ints(o, "afp_stages"),
        Feedback = o.GetProperty("feedback").GetBoolean(),
        Raa = o.GetProperty("raa").GetBoolean(),
        Alpha = PatFixture.Float(o, "alpha"),
        Beta = PatFixture.Float(o, "beta"),
        Gamma = PatFixture.Float(o, "gamma"),
        Temperature = PatFixture.Float(o, "t"),
        DetachFdTarget = o.GetProperty("detach").GetBoolean(),
        AsPublished = o.GetProperty("pub").GetBoolean(),
    };

    [Theory]
    [MemberData(nameof(Scenarios))]
    public void Two_training_steps_match_pytorch(string name)
    {
        var meta = PatFixture.Meta(name);
        string pair = meta.GetProperty("pair").GetString()!;
        var (teacher, student) = Pair(pair);
        PatFixture.LoadInto(teacher, $"{pair}/teacher.");
        PatFixture.LoadInto(student, $"{pair}/student.");
        using var pat = new Distillers.Pat(TestSetup.Of(student, teacher), Options(meta.GetProperty("options")));
        PatFixture.LoadInto(pat.Loss, meta.GetProperty("weights").GetString() + "/pat.");
        if (pat.Loss.Afp is { } afp)
            foreach (var block in afp.Blocks.Values) block.Beta.FillInPlace(PatFixture.Float(meta, "beta0"));
        pat.Train();
        float lr = PatFixture.Float(meta, "lr");

        for (int step = 1; step <= 2; step++)
        {
            using var scope = DisposeScope.Enter();
            string at = $"{name}/step{step}";
            var images = PatFixture.Get($"{at}/images");
            var labels = PatFixture.Get($"{at}/labels");
            var studentOut = pat.Student.ForwardFeatures(images);
            var terms = pat.Loss.Forward(studentOut, pat.Teacher, images, labels);
            foreach (var (key, value) in terms.Named())
                TensorAssert.Close(PatFixture.Get($"{at}/{key}"), value, Rtol, Atol, $"{at}: {key}");
            TensorAssert.Close(PatFixture.Get($"{at}/hcl"), Torch.Stack(terms.StageFd), Rtol, Atol, $"{at}: per-stage HCL");
            TensorAssert.Close(PatFixture.Get($"{at}/student_logits"), studentOut.Logits, Rtol, Atol, $"{at}: student logits");
            TensorAssert.Close(PatFixture.Get($"{at}/prompted_logits"), terms.PromptedLogits, Rtol, Atol, $"{at}: prompted teacher logits");

            pat.ZeroGrad();
            terms.Total().Backward();
            var parameters = pat.NamedParameters().ToDictionary(p => p.Name, p => p.Parameter);
            var checkedGrads = 0;
            foreach (var key in PatFixture.Keys($"{at}/grad/"))
            {
                string pname = key[$"{at}/grad/".Length..];
                var p = parameters[pname.StartsWith("student.", StringComparison.Ordinal) ? pname : "pat." + pname];
                Assert.True(p.Grad is not null, $"{at}: {pname} got no gradient");
                TensorAssert.Close(PatFixture.Get(key), p.Grad!, Rtol * 10, Atol * 10, $"{at}: gradient of {pname}");
                checkedGrads++;
            }
            Assert.True(checkedGrads >= 6, $"{at}: only {checkedGrads} gradients recorded");
            Assert.All(pat.Teacher.Parameters(), p => Assert.Null(p.Grad));

            using (GradMode.NoGrad())
            {
                foreach (var p in parameters.Values)
                    if (p.Grad is { } g) p.CopyFrom(p - g * lr);
            }
            pat.ZeroGrad();
        }
    }
}
