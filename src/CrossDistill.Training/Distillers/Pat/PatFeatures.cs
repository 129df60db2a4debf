using CrossDistill.Engine;
using CrossDistill.Models;

namespace CrossDistill.Training.Distillers.PatModules;

/// <summary>
/// How PAT sees a stage feature: feature maps as they are, token sequences as the square grid of
/// their patch tokens. Which tokens leave the grid is where the official code and the corrected
/// mode differ (research notes §1.3, open questions 1): the code drops the LAST token whenever L is
/// not a perfect square, which keeps a ViT's class token (index 0) inside the grid and shifts every
/// patch by one; the corrected mode removes the spec's leading prefix tokens.
/// </summary>
public static class PatFeatures
{
    /// <summary>
    /// The spec of the grid form: maps unchanged, tokens as (patch tokens, D) with no prefix.
    /// Throws when the patch tokens do not form a square grid.
    /// </summary>
    public static FeatureSpec GridSpec(FeatureSpec spec, bool asPublished, string context)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (spec is MapSpec) return spec;
        var tokens = (TokenSpec)spec;
        int patches = GridTokenCount(tokens, asPublished);
        int side = (int)Math.Round(Math.Sqrt(patches));
        if (patches <= 0 || side * side != patches)
            throw new ArgumentException(asPublished
                ? $"{context}: {tokens} has neither a square token count nor a square count after dropping the last token (as_published)."
                : $"{context}: the {patches} patch tokens of {tokens} (after removing {tokens.PrefixTokens} prefix tokens) do not form a square grid.");
        return new TokenSpec(patches, tokens.Dim);
    }

    /// <summary>The (C, H, W) of a feature in grid form: a map's own, or (D, h, h) for tokens.</summary>
    public static MapSpec MapShape(FeatureSpec spec, bool asPublished, string context)
    {
        var grid = GridSpec(spec, asPublished, context);
        if (grid is MapSpec map) return map;
        var tokens = (TokenSpec)grid;
        int side = (int)Math.Round(Math.Sqrt(tokens.Tokens));
        return new MapSpec(tokens.Dim, side, side);
    }

    /// <summary>The number of tokens that stay in the grid.</summary>
    public static int GridTokenCount(TokenSpec spec, bool asPublished)
    {
        if (!asPublished) return spec.Tokens - spec.PrefixTokens;
        int side = (int)Math.Round(Math.Sqrt(spec.Tokens));
        return side * side == spec.Tokens ? spec.Tokens : spec.Tokens - 1;
    }

    /// <summary>A feature in grid form: maps unchanged, tokens (B, L, D) narrowed to their grid tokens.</summary>
    public static Tensor GridTokens(Tensor feature, FeatureSpec spec, bool asPublished)
    {
        if (spec is MapSpec) return feature;
        var tokens = (TokenSpec)spec;
        int count = GridTokenCount(tokens, asPublished);
        int start = asPublished ? 0 : tokens.PrefixTokens;
        return count == feature.Shape[1] ? feature : feature.Narrow(1, start, count);
    }

    /// <summary>Row-major tokens (B, h·w, D) as a map (B, D, h, w) (einops "b (h w) d -> b d h w").</summary>
    public static Tensor TokensToMap(Tensor tokens, int height, int width)
    {
        if (tokens.Rank != 3 || tokens.Shape[1] != height * width)
            throw new ArgumentException($"PatFeatures.TokensToMap: expected (B, {height * width}, D) tokens for a {height}×{width} grid, got {ShapeUtil.Format(tokens.Shape)}.");
        // (B, h, w, D) permuted: a channels-last view of the tokens when they are contiguous.
        return tokens.Reshape(tokens.Shape[0], height, width, tokens.Shape[2]).Permute(0, 3, 1, 2);
    }

    /// <summary>Square row-major tokens (B, h², D) as a map (B, D, h, h).</summary>
    public static Tensor TokensToMap(Tensor tokens)
    {
        if (tokens.Rank != 3) throw new ArgumentException($"PatFeatures.TokensToMap: expected (B, L, D) tokens, got {ShapeUtil.Format(tokens.Shape)}.");
        int side = (int)Math.Round(Math.Sqrt(tokens.Shape[1]));
        if (side * side != tokens.Shape[1])
            throw new ArgumentException($"PatFeatures.TokensToMap: {tokens.Shape[1]} tokens do not form a square grid (shape {ShapeUtil.Format(tokens.Shape)}).");
        return TokensToMap(tokens, side, side);
    }

    /// <summary>A map (B, C, H, W) as row-major tokens (B, H·W, C).</summary>
    public static Tensor MapToTokens(Tensor map)
    {
        if (map.Rank != 4) throw new ArgumentException($"PatFeatures.MapToTokens: expected a (B, C, H, W) map, got {ShapeUtil.Format(map.Shape)}.");
        return map.Permute(0, 2, 3, 1).Reshape(map.Shape[0], map.Shape[2] * map.Shape[3], map.Shape[1]);
    }

    /// <summary>A grid-form feature as a map: maps unchanged, square tokens reshaped row-major.</summary>
    public static Tensor AsMap(Tensor gridFeature) => gridFeature.Rank == 3 ? TokensToMap(gridFeature) : gridFeature;

    /// <summary>A grid-form feature as tokens: tokens unchanged, maps flattened row-major.</summary>
    public static Tensor AsTokens(Tensor gridFeature) => gridFeature.Rank == 4 ? MapToTokens(gridFeature) : gridFeature;

    /// <summary>Checks a feature against its spec (batch dim aside), naming <paramref name="context"/>.</summary>
    public static void CheckShape(Tensor feature, FeatureSpec spec, string context)
    {
        var expected = spec.Shape;
        bool ok = feature.Rank == expected.Length + 1;
        for (int i = 0; ok && i < expected.Length; i++) ok = feature.Shape[i + 1] == expected[i];
        if (!ok) throw new ArgumentException($"{context}: expected a feature of shape (B, {string.Join(", ", expected)}) ({spec}), got {ShapeUtil.Format(feature.Shape)}.");
    }
}
