using CrossDistill.Engine;
using CrossDistill.Engine.Nn;
using CrossDistill.Models;

namespace CrossDistill.Training.Distillers.PatModules;

/// <summary>
/// One Adaptive Feedback Prompt (research notes §1.5), inserted before a teacher stage and acting on
/// that stage's input x: <c>x + β·prompt(fusion(cat[x, feedback]))</c>, with β a learnable scalar
/// starting at 0, so the prompted teacher starts as the plain one. Without feedback (the first step,
/// or feedback switched off) the fusion is skipped, as the official code does.
/// <list type="bullet">
/// <item>fusion = Conv1×1(2C→C) → Conv5×5(pad 2) → Conv1×1 → SE(C, r=16) → Conv1×1;</item>
/// <item>prompt (Pro-tuning) = Conv1×1(groups 4) → depthwise Conv5×5 → Conv1×1 → SE(C, r=16) →
/// Conv1×1(groups 4). All convolutions keep PyTorch's default init and have a bias.</item>
/// </list>
/// Token inputs are laid out as a (B, C, h, h) map of their grid tokens. Corrected mode removes the
/// prefix tokens, permutes tokens to channels, and after the prompt permutes back and re-inserts the
/// prefix in front. as_published reproduces the official code: the last token leaves the grid when
/// L is not square, the map is reshaped straight to (B, h², C) without the inverse permute (which
/// scrambles a token teacher's features even at β = 0) and the removed token is appended at the
/// end. The feedback comes in grid form: a map like x's, or x's grid tokens (B, h², C).
/// </summary>
public sealed class PromptBlock : Module
{
    private readonly FeatureSpec _spec;

    public PromptBlock(FeatureSpec inputSpec, bool asPublished)
    {
        ArgumentNullException.ThrowIfNull(inputSpec);
        _spec = inputSpec;
        AsPublished = asPublished;
        var grid = PatFeatures.MapShape(inputSpec, asPublished, "PromptBlock");
        int c = grid.Channels;
        if (c % 4 != 0)
            throw new ArgumentException($"PromptBlock: the prompt's grouped 1×1 convolutions need channels divisible by 4, got {c} ({inputSpec}).", nameof(inputSpec));
        Channels = c;
        GridSpec = PatFeatures.GridSpec(inputSpec, asPublished, "PromptBlock");
        Fusion = RegisterModule("fusion", new Sequential(
            new Conv2d(2 * c, c, 1),
            new Conv2d(c, c, 5, padding: 2),
            new Conv2d(c, c, 1),
            new SqueezeExcitation(c, asPublished),
            new Conv2d(c, c, 1)));
        Prompt = RegisterModule("prompt", new Sequential(
            new Conv2d(c, c, 1, groups: 4),
            new Conv2d(c, c, 5, padding: 2, groups: c),
            new Conv2d(c, c, 1),
            new SqueezeExcitation(c, asPublished),
            new Conv2d(c, c, 1, groups: 4)));
        Beta = RegisterParameter("beta", Torch.Zeros(1));
    }

    public bool AsPublished { get; }
    public int Channels { get; }

    /// <summary>The shape the feedback must have (per sample): the grid form of the input.</summary>
    public FeatureSpec GridSpec { get; }

    public Sequential Fusion { get; }
    public Sequential Prompt { get; }
    public Tensor Beta { get; }

    /// <summary>The prompted stage input, shaped like <paramref name="x"/>.</summary>
    public Tensor Forward(Tensor x, Tensor? feedback)
    {
        PatFeatures.CheckShape(x, _spec, "PromptBlock: stage input");
        if (feedback is not null)
        {
            PatFeatures.CheckShape(feedback, GridSpec, "PromptBlock: feedback");
            if (feedback.Shape[0] != x.Shape[0])
                throw new ArgumentException($"PromptBlock: feedback batch {feedback.Shape[0]} differs from the input's {x.Shape[0]}.", nameof(feedback));
        }
        if (_spec is MapSpec) return Prompted(x, feedback);

        var tokens = (TokenSpec)_spec;
        int batch = x.Shape[0], length = x.Shape[1];
        var grid = (TokenSpec)GridSpec;
        int side = (int)Math.Round(Math.Sqrt(grid.Tokens));
        var fbMap = feedback is null ? null : PatFeatures.TokensToMap(feedback, side, side);
        if (AsPublished)
        {
            var body = grid.Tokens == length ? x : x.Narrow(1, 0, grid.Tokens);
            var prompted = Prompted(PatFeatures.TokensToMap(body, side, side), fbMap);
            // As coded: (B, C, h, h) read straight as (B, h², C), no inverse permute.
            var scrambled = prompted.Reshape(batch, grid.Tokens, Channels);
            return grid.Tokens == length ? scrambled : Torch.Cat(new[] { scrambled, x.Narrow(1, grid.Tokens, length - grid.Tokens) }, 1);
        }
        var patches = PatFeatures.TokensToMap(x.Narrow(1, tokens.PrefixTokens, grid.Tokens), side, side);
        var back = PatFeatures.MapToTokens(Prompted(patches, fbMap));
        return tokens.PrefixTokens == 0 ? back : Torch.Cat(new[] { x.Narrow(1, 0, tokens.PrefixTokens), back }, 1);
    }

    private Tensor Prompted(Tensor map, Tensor? feedback)
    {
        var fused = feedback is null ? map : Fusion.Forward(Torch.Cat(new[] { map, feedback }, 1));
        return map + Beta * Prompt.Forward(fused);
    }
}
