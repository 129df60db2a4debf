using CrossDistill.Models;
using CrossDistill.Training.Distillers;
using CrossDistill.Training.Distillers.PatModules;

namespace CrossDistill.Training.Tests.Pat;

/// <summary>Finite-difference checks of the gradients PAT's modules pass back to their inputs.</summary>
public sealed class PatGradCheckTests
{
    private static readonly FeatureSpec[] MixedStudent =
    {
        new MapSpec(2, 5, 5), new MapSpec(3, 3, 3), new TokenSpec(5, 4, 1), new TokenSpec(4, 4),
    };

    private static Tensor[] StudentFeatures(Generator g, int batch = 2) => MixedStudent
        .Select(s => Torch.Randn(new[] { batch }.Concat(s.Shape).ToArray(), g)).ToArray();

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Region_aware_attention(bool asPublished)
    {
        Torch.ManualSeed(1);
        using var raa = new RegionAwareAttention(MixedStudent, 16, 4, 2, asPublished);
        GradCheck.Check(x => Torch.Cat(raa.Forward(x), 1), StudentFeatures(new Generator(2)));
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(false, true)]
    [InlineData(true, true)]
    public void Prompt_block_on_maps(bool asPublished, bool withFeedback)
    {
        Torch.ManualSeed(3);
        using var block = new PromptBlock(new MapSpec(4, 3, 3), asPublished);
        block.Beta.FillInPlace(0.8f);
        var g = new Generator(4);
        var inputs = withFeedback ? new[] { Torch.Randn(new[] { 2, 4, 3, 3 }, g), Torch.Randn(new[] { 2, 4, 3, 3 }, g) } : new[] { Torch.Randn(new[] { 2, 4, 3, 3 }, g) };
        GradCheck.Check(x => block.Forward(x[0], x.Length > 1 ? x[1] : null), inputs);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Prompt_block_on_tokens_with_a_class_token(bool asPublished)
    {
        Torch.ManualSeed(5);
        var spec = new TokenSpec(5, 4, 1);
        using var block = new PromptBlock(spec, asPublished);
        block.Beta.FillInPlace(-0.6f);
        var g = new Generator(6);
        GradCheck.Check(x => block.Forward(x[0], x[1]), new[] { Torch.Randn(new[] { 2, 5, 4 }, g), Torch.Randn(new[] { 2, 4, 4 }, g) });
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Aligners_of_both_kinds(bool toTokens)
    {
        Torch.ManualSeed(7);
        using var aligner = (Engine.Nn.Module<Tensor, Tensor>)(toTokens
            ? Aligners.Create(new MapSpec(3, 2, 2), new TokenSpec(5, 3))
            : Aligners.Create(new TokenSpec(4, 3), new MapSpec(2, 3, 3)));
        var g = new Generator(8);
        var input = toTokens ? Torch.Randn(new[] { 3, 3, 2, 2 }, g) : Torch.Randn(new[] { 3, 4, 3 }, g);
        GradCheck.Check(x => aligner.Forward(x[0]), new[] { input });
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void The_whole_loss_with_respect_to_the_student(bool asPublished)
    {
        Torch.ManualSeed(9);
        using var teacher = new TinyCnn(4, new[] { 4, 4, 8, 8 }, new[] { 1, 2, 2, 2 }, classes: 3, image: 8);
        teacher.Eval();
        foreach (var p in teacher.Parameters()) p.RequiresGrad = false;
        var options = new PatOptions { NumQueries = 16, Dim = 4, Heads = 2, Temperature = 2f, AsPublished = asPublished, Feedback = false };
        using var loss = new PatLoss(MixedStudent, teacher.StageInputSpecs, teacher.StageOutputSpecs, options);
        foreach (var block in loss.Afp!.Blocks.Values) block.Beta.FillInPlace(0.5f);
        var g = new Generator(10);
        var images = Torch.Randn(new[] { 2, 3, 8, 8 }, g).DetachFromScopes();
        var labels = Torch.FromArray(new long[] { 2, 0 }, 2).DetachFromScopes();
        var inputs = new[] { Torch.Randn(new[] { 2, 3 }, g) }.Concat(StudentFeatures(g)).ToArray();
        // Batch norms over a batch of two curve strongly: a smaller step than the default keeps the
        // central difference within its tolerance.
        GradCheck.Check(x => loss.Forward(new ModelOutput(x[0], x[1..]), teacher, images, labels).Total(), inputs, eps: 2e-3f);
        images.Dispose();
        labels.Dispose();
    }
}
