using CrossDistill.Models;
using CrossDistill.Models.Transformers;
using CrossDistill.Training.Config;
using CrossDistill.Training.Distillers;
using CrossDistill.Training.Distillers.Losses;
using CrossDistill.Training.Distillers.Modules;

namespace CrossDistill.Training.Tests.Baselines;

/// <summary>The four baselines as distillers on tiny CNN and ViT models: losses, gradients, warm-up, soft labels, params.</summary>
public class BaselineDistillerTests
{
    private static VisionModel Map() => new TinyMapNet(new[] { 4, 8, 12, 16 });
    private static VisionModel Tokens() => new TinyTokenNet(12);

    private static DistillBatch Batch(bool soft = false)
    {
        var g = new Generator(5);
        var images = Torch.Randn(new[] { 4, 3, 16, 16 }, g);
        var labels = Torch.FromArray(new long[] { 0, 3, 1, 4 }, 4);
        Tensor? softTargets = null;
        if (soft)
        {
            // Mixup-style targets whose argmax differs from the labels for two samples.
            var t = new float[20];
            (int, int, float)[] mix = { (0, 2, 0.7f), (3, 1, 0.4f), (1, 1, 1f), (4, 0, 0.3f) };
            for (int i = 0; i < 4; i++) { t[i * 5 + mix[i].Item1] += mix[i].Item3; t[i * 5 + mix[i].Item2] += 1 - mix[i].Item3; }
            softTargets = Torch.FromArray(t, 4, 5);
        }
        return new DistillBatch(images, labels, softTargets, new[] { 0, 1, 2, 3 });
    }

    private static readonly StepContext Later = new(Epoch: 30, TotalEpochs: 40, Step: 3000, StepInEpoch: 0, StepsPerEpoch: 100, Rng: new Generator(0));

    private static Distiller Build(string method, VisionModel student, VisionModel teacher)
    {
        return DistillerRegistry.Create(DistillerRegistry.Get(method), TestSetup.Of(student, teacher, 0.1f), null);
    }

    public static IEnumerable<object[]> Pairs()
    {
        foreach (var method in new[] { "dkd", "dist", "ofa", "fitnet" })
            foreach (var pair in new[] { "map->map", "map->tokens", "tokens->map", "tokens->tokens" })
                yield return new object[] { method, pair };
    }

    [Theory]
    [MemberData(nameof(Pairs))]
    public void TrainStepGivesFiniteLossesAndTrainsOnlyStudentAndMethodModules(string method, string pair)
    {
        var student = pair.StartsWith("map") ? Map() : Tokens();
        var teacher = pair.EndsWith("map") ? Map() : Tokens();
        using var distiller = Build(method, student, teacher);
        distiller.Train();
        Assert.False(teacher.Training);
        using var scope = DisposeScope.Enter();
        var output = distiller.ForwardTrain(Batch(), Later);
        Assert.Equal(new[] { 4, 5 }, output.Logits.Shape);
        string[] expected = method switch
        {
            "dkd" => new[] { "loss_ce", "loss_tckd", "loss_nckd" },
            "dist" => new[] { "loss_ce", "loss_inter", "loss_intra" },
            "ofa" => new[] { "loss_ce", "loss_kd", "loss_ofa" },
            _ => new[] { "loss_ce", "loss_hint" },
        };
        Assert.Equal(expected, output.Losses.Keys);
        foreach (var (name, loss) in output.Losses)
        {
            Assert.Empty(loss.Shape);
            Assert.True(float.IsFinite(loss.Item()) && loss.Item() >= 0f, $"{method} {pair}: {name} = {loss.Item()}");
        }
        output.Total().Backward();
        foreach (var (name, p) in distiller.TrainableParameters())
            Assert.True(p.Grad is not null, $"{method} {pair}: {name} got no gradient");
        Assert.All(teacher.Parameters(), p => Assert.True(!p.RequiresGrad && p.Grad is null));
        Assert.Equal(method is "ofa" or "fitnet", distiller.ExtraParameterCount() > 0);
    }

    [Fact]
    public void DkdWarmupRampsLinearlyWithTheFractionalEpoch()
    {
        Assert.Equal(0f, DKD.WarmupFactor(new StepContext(0, 40, 0, (int)(0 % 100), 100, new Generator(0)), 20f));
        Assert.Equal(5.5f / 20f, DKD.WarmupFactor(new StepContext(5, 40, 550, (int)(550 % 100), 100, new Generator(0)), 20f), 6);
        Assert.Equal(1f, DKD.WarmupFactor(new StepContext(20, 40, 2000, (int)(2000 % 100), 100, new Generator(0)), 20f));
        Assert.Equal(1f, DKD.WarmupFactor(Later, 20f));
        Assert.Equal(1f, DKD.WarmupFactor(new StepContext(0, 40, 0, (int)(0 % 100), 100, new Generator(0)), 0f));
    }

    [Fact]
    public void DkdTermsAreOffAtEpochZeroAndFullAfterWarmup()
    {
        var p = new DKD.Params { Alpha = 1.5f, Beta = 4f, Temperature = 2f, Warmup = 10f };
        using var distiller = new DKD(TestSetup.Of(Map(), Tokens()), p);
        using var scope = DisposeScope.Enter();
        var batch = Batch();
        var first = distiller.ForwardTrain(batch, new StepContext(0, 40, 0, (int)(0 % 100), 100, new Generator(0)));
        Assert.Equal(0f, first.Losses["loss_tckd"].Item());
        Assert.Equal(0f, first.Losses["loss_nckd"].Item());
        Assert.True(first.Losses["loss_ce"].Item() > 0f);

        var late = distiller.ForwardTrain(batch, Later);
        var (tckd, nckd) = DkdLoss.Terms(late.Logits, distiller.Teacher.Forward(batch.Images), batch.Labels, p.Temperature);
        Assert.Equal(p.Alpha * tckd.Item(), late.Losses["loss_tckd"].Item(), 5);
        Assert.Equal(p.Beta * nckd.Item(), late.Losses["loss_nckd"].Item(), 5);
    }

    [Fact]
    public void SoftTargetsUseTheirArgmaxAsTheTargetClass()
    {
        using var ofa = new OFA(TestSetup.Of(Tokens(), Map()), new OFA.Params { Eps = new[] { 1.5f } });
        using var scope = DisposeScope.Enter();
        var batch = Batch(soft: true);
        Assert.Equal(new long[] { 0, 1, 1, 0 }, BatchTargets.HardLabels(batch).ToLongArray());
        var output = ofa.ForwardTrain(batch, Later);
        var mask = OfaLoss.TargetMask(Torch.FromArray(new long[] { 0, 1, 1, 0 }, 4), 5);
        var expected = OfaLoss.Compute(output.Logits, ofa.Teacher.Forward(batch.Images), mask, 1.5f, 1f);
        Assert.Equal(expected.Item(), output.Losses["loss_kd"].Item(), 5);
        // The cross-entropy reads the soft targets themselves.
        Assert.Equal(F.CrossEntropy(output.Logits, batch.SoftTargets!).Item(), output.Losses["loss_ce"].Item(), 5);
    }

    [Fact]
    public void OfaBuildsTheOfficialBranchesAndEpsPerStage()
    {
        using var cnn = new OFA(TestSetup.Of(Map(), Tokens()), new OFA.Params { Stages = new[] { 1, 4 }, Eps = new[] { 1f, 1.2f, 1.5f } });
        // CNN student: width max(16, 12) = 16; stage 1 gets 3 SepConvs, stage 4 a 1×1 conv.
        Assert.IsType<CnnLogitBranch>(cnn.Branch(1));
        Assert.Equal(3, cnn.Branch(1).Modules().OfType<SepConv>().Count());
        Assert.Equal(16, cnn.Branch(1).Modules().OfType<SepConv>().Last().OutChannels);
        Assert.Equal(new[] { 1f, 1.2f, 1.5f }, cnn.Eps);
        Assert.Throws<KeyNotFoundException>(() => cnn.Branch(2));

        using var vit = new OFA(TestSetup.Of(Tokens(), Map()), new OFA.Params { TokenFinalGrid = 2 });
        Assert.Equal(new[] { 1f, 1f, 1f, 1f, 1f }, vit.Eps);
        var stage1 = Assert.IsType<TokenLogitBranch>(vit.Branch(1));
        Assert.Equal(1, stage1.MergeCount);
        Assert.Equal(3, stage1.Modules().OfType<EncoderBlock>().Count());
        Assert.Single(vit.Branch(4).Modules().OfType<EncoderBlock>());

        Assert.Contains("eps", Assert.Throws<ArgumentException>(() => new OFA(TestSetup.Of(Map(), Map()), new OFA.Params { Eps = new[] { 1f, 1f } })).Message);
        Assert.Contains("stages", Assert.Throws<ArgumentException>(() => new OFA(TestSetup.Of(Map(), Map()), new OFA.Params { Stages = new[] { 0, 2 } })).Message);
        Assert.Contains("repeat", Assert.Throws<ArgumentException>(() => new FitNet(TestSetup.Of(Map(), Map()), new FitNet.Params { Stages = new[] { 2, 2 } })).Message);
    }

    [Fact]
    public void FitNetHintsStageThreeByDefaultWithTheMseOfTheAlignedFeature()
    {
        using var fitnet = new FitNet(TestSetup.Of(Map(), Tokens()), new FitNet.Params { Weight = 3f });
        var aligner = fitnet.Aligner(3);
        Assert.Equal(new MapSpec(12, 4, 4), aligner.Student);
        Assert.Equal(new TokenSpec(17, 12, 1), aligner.Teacher);
        using var scope = DisposeScope.Enter();
        var batch = Batch();
        var output = fitnet.ForwardTrain(batch, Later);
        var features = fitnet.Student.ForwardFeatures(batch.Images).Features;
        var teacher = fitnet.Teacher.ForwardFeatures(batch.Images).Features;
        var aligned = aligner.Forward(features[2]);
        Assert.Equal(new[] { 4, 16, 12 }, aligned.Shape);
        Assert.Equal(3f * F.MseLoss(aligned, aligner.Target(teacher[2])).Item(), output.Losses["loss_hint"].Item(), 4);
    }

    [Fact]
    public void ParamsBindFromConfigWithKeyPathErrors()
    {
        var tree = ConfigLoader.ParseText("stages: [2, 4]\neps: [1.5]\ntemperature: 2\ntoken_final_grid: 4\n");
        var p = ConfigBinder.Bind<OFA.Params>(tree);
        Assert.Equal(new[] { 2, 4 }, p.Stages);
        Assert.Equal(new[] { 1.5f }, p.Eps);
        Assert.Equal(4, p.TokenFinalGrid);
        var dkd = ConfigBinder.Bind<DKD.Params>(ConfigLoader.ParseText("alpha: 2\nwarmup: 5\n"));
        Assert.Equal((2f, 8f, 5f), (dkd.Alpha, dkd.Beta, dkd.Warmup));
        var e = Assert.Throws<ConfigException>(() => ConfigBinder.Bind<DIST.Params>(ConfigLoader.ParseText("tau: -1\nbeta_: 2\n")));
        Assert.Contains("tau", e.Message);
        Assert.Contains("beta_", e.Message);
        Assert.Equal(FitNet.ResampleMode.Nearest, ConfigBinder.Bind<FitNet.Params>(ConfigLoader.ParseText("resample: nearest\n")).Resample);
        Assert.Contains("resample", Assert.Throws<ConfigException>(() => ConfigBinder.Bind<FitNet.Params>(ConfigLoader.ParseText("resample: bicubic\n"))).Message);
        Assert.All(new[] { "dkd", "dist", "ofa", "fitnet" }, name => Assert.True(DistillerRegistry.Contains(name), name));
    }
}
