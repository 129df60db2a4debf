using CrossDistill.Engine;
namespace CrossDistill.Models.Transformers;

/// <summary>Argument checks shared by the transformer and MLP models, with messages that name the model.</summary>
internal static class ModelChecks
{
    public static void Config(string model, ModelConfig config)
    {
        if (config.InChannels < 1) throw new ArgumentException($"{model}: InChannels must be positive, got {config.InChannels}.");
        if (config.NumClasses < 1) throw new ArgumentException($"{model}: NumClasses must be positive, got {config.NumClasses}.");
        if (!(config.DropRate >= 0 && config.DropRate < 1)) throw new ArgumentException($"{model}: DropRate must be in [0, 1), got {config.DropRate}.");
        if (!(config.DropPathRate >= 0 && config.DropPathRate < 1)) throw new ArgumentException($"{model}: DropPathRate must be in [0, 1), got {config.DropPathRate}.");
    }

    public static void Positive(string model, string option, double value)
    {
        if (!(value > 0)) throw new ArgumentException($"{model}: option '{option}' must be positive, got {value}.");
    }

    /// <summary>The images must be (N, InChannels, ImageSize, ImageSize): position tables and windows are sized for it.</summary>
    public static void Images(string model, ModelConfig config, Tensor images)
    {
        if (images.Rank != 4 || images.Shape[1] != config.InChannels || images.Shape[2] != config.ImageSize || images.Shape[3] != config.ImageSize)
            throw new ArgumentException($"{model}: expected images of shape (N, {config.InChannels}, {config.ImageSize}, {config.ImageSize}), got {ShapeUtil.Format(images.Shape)}.", nameof(images));
    }

    public static void Stage(string model, int stage)
    {
        if (stage is < 0 or > 3) throw new ArgumentOutOfRangeException(nameof(stage), $"{model}: stage must be 0–3, got {stage}.");
    }

    /// <summary>A stage input or feature must be tokens (N, L, D) of the spec's shape.</summary>
    public static void Tokens(string model, string what, TokenSpec spec, Tensor x)
    {
        if (x.Rank != 3 || x.Shape[1] != spec.Tokens || x.Shape[2] != spec.Dim)
            throw new ArgumentException($"{model}: {what} must be tokens of shape (N, {spec.Tokens}, {spec.Dim}), got {ShapeUtil.Format(x.Shape)}.");
    }

    /// <summary>A conv's (N, D, h, w) output as tokens (N, h·w, D) in row-major order (a view when the conv wrote channels-last).</summary>
    public static Tensor MapToTokens(Tensor map)
    {
        int n = map.Shape[0], d = map.Shape[1], h = map.Shape[2], w = map.Shape[3];
        return map.Permute(0, 2, 3, 1).Reshape(n, h * w, d);
    }
}
