using CrossDistill.Engine.Nn;
using CrossDistill.Models;
using CrossDistill.Training.Distillers;
using CrossDistill.Training.Distillers.PatModules;

namespace CrossDistill.Training.Tests.Pat;

/// <summary>
/// PAT's properties that do not need a reference: the prompted teacher equals the plain one at
/// initialisation (β = 0) in corrected mode, but not for token teachers as published; shapes for
/// map and token teachers and students (ResNet-like maps, ViT-like tokens with a class token,
/// Swin-like tokens without); feedback; checkpoints; argument errors.
/// </summary>
public sealed class PatBehaviourTests
{
    private static PatOptions Small(bool asPublished = false) => new() { NumQueries = 16, Dim = 8, Heads = 2, AsPublished = asPublished };

    private static VisionModel Model(string kind) => kind switch
    {
        "cnn" => new TinyCnn(8, new[] { 8, 12, 12, 16 }, new[] { 1, 2, 2, 2 }),
        "vit" => new TinyVit(8, 2),
        "swin" => new TinySwin(8, image: 16),
        "swin_merging_stages" => new TinySwin(8, image: 16, mergeAtStageEnd: true),
        _ => throw new ArgumentException(kind),
    };

    private static (Tensor Images, Tensor Labels) Batch(int batch, ulong seed)
    {
        var g = new Generator(seed);
        return (Torch.Randn(new[] { batch, 3, 16, 16 }, g), Torch.RandInt(0, 5, new[] { batch }, g));
    }

    private static DistillBatch DistillBatch(int batch, ulong seed)
    {
        var (images, labels) = Batch(batch, seed);
        return new DistillBatch(images, labels, null, Enumerable.Range(0, batch).ToArray());
    }

    [Theory]
    [InlineData("cnn")]
    [InlineData("vit")]
    [InlineData("swin")]
    public void At_initialisation_the_prompted_teacher_is_the_plain_teacher_in_corrected_mode(string teacherKind)
    {
        Torch.ManualSeed(1);
        using var pat = new Distillers.Pat(TestSetup.Of(Model("cnn"), Model(teacherKind)), Small());
        pat.Train();
        using var scope = DisposeScope.Enter();
        var (images, labels) = Batch(3, 2);
        var terms = pat.Loss.Forward(pat.Student.ForwardFeatures(images), pat.Teacher, images, labels);
        TensorAssert.Close(terms.TeacherLogits, terms.PromptedLogits, 0f, 0f, "prompted vs plain logits");
        Assert.Equal(0f, terms.LossReg.Item(), 6);
    }

    [Theory]
    [InlineData("vit", true)]
    [InlineData("swin", true)]
    [InlineData("cnn", false)]
    public void As_published_the_missing_inverse_permute_changes_token_teachers_even_at_beta_0(string teacherKind, bool changed)
    {
        Torch.ManualSeed(3);
        using var pat = new Distillers.Pat(TestSetup.Of(Model("cnn"), Model(teacherKind)), Small(asPublished: true));
        pat.Train();
        using var scope = DisposeScope.Enter();
        var (images, labels) = Batch(3, 4);
        var terms = pat.Loss.Forward(pat.Student.ForwardFeatures(images), pat.Teacher, images, labels);
        Assert.All(pat.Loss.Afp!.Blocks.Values, b => Assert.Equal(0f, b.Beta.Item()));
        if (changed) Assert.True(terms.LossReg.Item() > 1e-4f, $"L_Reg {terms.LossReg.Item()} should be positive for a scrambled {teacherKind} teacher");
        else Assert.Equal(0f, terms.LossReg.Item(), 6);
    }

    [Theory]
    [InlineData("cnn", "vit")]
    [InlineData("vit", "cnn")]
    [InlineData("swin", "cnn")]
    [InlineData("cnn", "swin")]
    [InlineData("vit", "swin")]
    [InlineData("swin_merging_stages", "vit")]
    public void Shapes_follow_the_teacher_for_every_pairing(string teacherKind, string studentKind)
    {
        foreach (bool published in new[] { false, true })
        foreach (bool raa in new[] { true, false })
        {
            Torch.ManualSeed(5);
            var options = Small(published);
            options.Raa = raa;
            using var pat = new Distillers.Pat(TestSetup.Of(Model(studentKind), Model(teacherKind)), options);
            pat.Train();
            for (int step = 0; step < 2; step++)
            {
                using var scope = DisposeScope.Enter();
                var (images, labels) = Batch(2, (ulong)(6 + step));
                var studentOut = pat.Student.ForwardFeatures(images);
                if (raa)
                    Assert.All(pat.Loss.Raa!.Forward(studentOut.Features), b => Assert.Equal(new[] { 2, 4, 8 }, b.Shape));
                var terms = pat.Loss.Forward(studentOut, pat.Teacher, images, labels);
                for (int i = 0; i < 4; i++)
                {
                    var grid = PatFeatures.GridSpec(pat.Teacher.StageOutputSpecs[i], published, "test");
                    Assert.Equal(new[] { 2 }.Concat(grid.Shape), terms.AlignedStudent[i].Shape);
                    Assert.Equal(terms.TeacherTargets[i].Shape, terms.AlignedStudent[i].Shape);
                    Assert.Equal(terms.AlignedStudent[i].Shape, pat.Loss.Afp!.Feedback(i + 1)!.Shape);
                }
                Assert.All(terms.Named().Values, l => Assert.True(float.IsFinite(l.Item()), $"{teacherKind}→{studentKind}: a loss is not finite"));
                terms.Total().Backward();
                Assert.All(pat.Loss.Afp!.Blocks.Values, b => Assert.NotNull(b.Beta.Grad));
                pat.ZeroGrad();
            }
        }
    }

    [Fact]
    public void Token_feedback_aligners_map_a_stage_output_onto_its_input()
    {
        using var teacher = Model("swin_merging_stages");
        using var afp = new AdaptiveFeedbackPrompts(teacher.StageInputSpecs, teacher.StageOutputSpecs, new[] { 1, 2, 3, 4 }, asPublished: false);
        Assert.IsType<TokenAligner>(afp.FeedbackAligners["1"]);
        Assert.IsType<Identity>(afp.FeedbackAligners["4"]);
        using var cnn = Model("cnn");
        using var mapAfp = new AdaptiveFeedbackPrompts(cnn.StageInputSpecs, cnn.StageOutputSpecs, new[] { 1, 2, 3, 4 }, asPublished: false);
        Assert.IsType<Identity>(mapAfp.FeedbackAligners["1"]);   // (8, 16, 16) in and out
        Assert.IsType<MapAligner>(mapAfp.FeedbackAligners["2"]); // (12, 8, 8) out, (8, 16, 16) in
    }

    [Fact]
    public void Feedback_is_the_previous_gap_and_changes_the_next_step()
    {
        Torch.ManualSeed(8);
        using var pat = new Distillers.Pat(TestSetup.Of(Model("vit"), Model("cnn")), Small());
        foreach (var block in pat.Loss.Afp!.Blocks.Values) block.Beta.FillInPlace(0.5f);
        pat.Train();
        Assert.All(pat.Loss.Afp.Stages, s => Assert.Null(pat.Loss.Afp.Feedback(s)));
        using var scope = DisposeScope.Enter();
        var (images, labels) = Batch(3, 9);
        var first = pat.Loss.Forward(pat.Student.ForwardFeatures(images), pat.Teacher, images, labels);
        for (int i = 0; i < 4; i++)
            TensorAssert.Close(first.AlignedStudent[i] - first.TeacherTargets[i], pat.Loss.Afp.Feedback(i + 1)!, 0f, 0f, $"feedback {i + 1}");
        Assert.All(pat.Loss.Afp.Stages, s => Assert.False(pat.Loss.Afp.Feedback(s)!.RequiresGrad));

        var previousGap = first.AlignedStudent.Select((a, i) => (a, i)).ToDictionary(p => $"feedback_{p.i + 1}", p => (p.a - first.TeacherTargets[p.i]).Detach());
        var (images2, labels2) = Batch(3, 10);
        Tensor Prompted() => pat.Loss.Forward(pat.Student.ForwardFeatures(images2), pat.Teacher, images2, labels2).PromptedLogits;
        var withFeedback = Prompted();
        Assert.True((first.AlignedStudent[0] - first.TeacherTargets[0] - pat.Loss.Afp.Feedback(1)!).Abs().Max().Item() > 0, "the step should replace the feedback");

        pat.Loss.Afp.LoadFeedbackState(previousGap);
        TensorAssert.Close(withFeedback, Prompted(), 0f, 0f, "the same step on restored feedback");

        pat.Loss.Afp.LoadFeedbackState(previousGap);
        pat.Loss.Afp.UseFeedback = false;
        Assert.True((withFeedback - Prompted()).Abs().Max().Item() > 1e-5f, "the feedback should change the prompted teacher");
        Assert.All(pat.Loss.Afp.Stages, s => TensorAssert.Close(previousGap[$"feedback_{s}"], pat.Loss.Afp.Feedback(s)!, 0f, 0f, "feedback kept while off"));
    }

    [Fact]
    public void A_batch_of_another_size_runs_without_feedback()
    {
        Torch.ManualSeed(11);
        using var pat = new Distillers.Pat(TestSetup.Of(Model("cnn"), Model("cnn")), Small());
        pat.Train();
        using var scope = DisposeScope.Enter();
        pat.ForwardTrain(DistillBatch(4, 1), new StepContext(0, 1, 0, (int)(0 % 2), 2, new Generator(0))).Total().Backward();
        var output = pat.ForwardTrain(DistillBatch(3, 2), new StepContext(0, 1, 1, (int)(1 % 2), 2, new Generator(0)));
        output.Total().Backward();
        Assert.Equal(3, pat.Loss.Afp!.Feedback(1)!.Shape[0]);
    }

    [Fact]
    public void Forward_train_returns_the_four_named_terms_and_trains_only_student_and_method()
    {
        Torch.ManualSeed(12);
        using var pat = new Distillers.Pat(TestSetup.Of(Model("vit"), Model("cnn")), Small());
        pat.Train();
        Assert.False(pat.Teacher.Training);
        using var scope = DisposeScope.Enter();
        var output = pat.ForwardTrain(DistillBatch(2, 3), new StepContext(0, 1, 0, (int)(0 % 1), 1, new Generator(0)));
        Assert.Equal(new[] { "loss_ce", "loss_kl", "loss_fd", "loss_reg" }, output.Losses.Keys);
        Assert.Equal(new[] { 2, 5 }, output.Logits.Shape);
        output.Total().Backward();
        Assert.All(pat.Teacher.Parameters(), p => { Assert.False(p.RequiresGrad); Assert.Null(p.Grad); });
        Assert.True(pat.ExtraParameterCount() > 0);
        Assert.DoesNotContain(pat.TrainableParameters(), p => pat.Teacher.Parameters().Contains(p.Parameter));
        Assert.Contains(pat.TrainableParameters(), p => p.Name == "pat.afp.blocks.1.beta");
        Assert.Same(pat.Student, pat.InferenceModel);
    }

    [Fact]
    public void Checkpoints_restore_weights_strictly_and_feedback_explicitly()
    {
        Torch.ManualSeed(13);
        using var pat = new Distillers.Pat(TestSetup.Of(Model("vit"), Model("cnn")), Small());
        foreach (var block in pat.Loss.Afp!.Blocks.Values) block.Beta.FillInPlace(0.3f);
        pat.Train();
        using var scope = DisposeScope.Enter();
        pat.ForwardTrain(DistillBatch(2, 4), new StepContext(0, 1, 0, (int)(0 % 2), 2, new Generator(0)));
        Assert.DoesNotContain(pat.StateDict().Keys, k => k.Contains("feedback", StringComparison.Ordinal) || k.Contains("positions", StringComparison.Ordinal));
        var feedback = pat.FeedbackState();
        Assert.Equal(new[] { "pat.afp.feedback_1", "pat.afp.feedback_2", "pat.afp.feedback_3", "pat.afp.feedback_4" }, feedback.Keys.Order());

        Torch.ManualSeed(99);
        using var restored = new Distillers.Pat(TestSetup.Of(Model("vit"), Model("cnn")), Small());
        restored.LoadStateDict(pat.StateDict());
        restored.Teacher.LoadStateDict(pat.Teacher.StateDict());
        restored.LoadFeedbackState(feedback);
        restored.Train();
        var batch = DistillBatch(2, 5);
        var a = pat.ForwardTrain(batch, new StepContext(0, 1, 1, (int)(1 % 2), 2, new Generator(0)));
        var b = restored.ForwardTrain(batch, new StepContext(0, 1, 1, (int)(1 % 2), 2, new Generator(0)));
        foreach (var key in a.Losses.Keys) TensorAssert.Close(a.Losses[key], b.Losses[key], 1e-6f, 1e-7f, key);
    }

    [Fact]
    public void Invalid_options_and_shapes_are_named()
    {
        using var cnn = Model("cnn");
        using var vit = Model("vit");
        var e = Assert.Throws<ArgumentException>(() => new Distillers.Pat(TestSetup.Of(Model("cnn"), Model("cnn")), new PatOptions { NumQueries = 48 }));
        Assert.Contains("num_queries 48", e.Message);
        e = Assert.Throws<ArgumentException>(() => new PatOptions { Dim = 10, Heads = 4, AfpStages = new[] { 0, 2 } }.Validate());
        Assert.Contains("dim 10", e.Message);
        Assert.Contains("afp_stages [0, 2]", e.Message);
        e = Assert.Throws<ArgumentException>(() => new PromptBlock(new MapSpec(6, 4, 4), asPublished: false));
        Assert.Contains("divisible by 4", e.Message);
        e = Assert.Throws<ArgumentException>(() => new RegionAwareAttention(new FeatureSpec[] { new TokenSpec(18, 4, 1), new MapSpec(2, 4, 4), new MapSpec(2, 4, 4), new MapSpec(2, 4, 4) }, 16, 4, 2, false));
        Assert.Contains("17 patch tokens", e.Message);
        using var scope = DisposeScope.Enter();
        using var block = new PromptBlock(new TokenSpec(17, 8, 1), asPublished: false);
        e = Assert.Throws<ArgumentException>(() => block.Forward(Torch.Zeros(2, 16, 8), null));
        Assert.Contains("[2, 16, 8]", e.Message);
        using var afp = new AdaptiveFeedbackPrompts(cnn.StageInputSpecs, cnn.StageOutputSpecs, new[] { 1 }, false);
        e = Assert.Throws<ArgumentException>(() => afp.Forward(vit, Torch.Zeros(1, 3, 16, 16)));
        Assert.Contains("tiny_vit", e.Message);
    }
}
