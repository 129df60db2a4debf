namespace CrossDistill.Models;

/// <summary>
/// What every architecture can be configured with. Presets in the zoo fill in width and depth;
/// <see cref="Options"/> carries architecture-specific overrides (e.g. "width_mult", "depth",
/// "embed_dim", "patch_size") by their timm/torchvision argument names.
/// </summary>
public sealed record ModelConfig
{
    public int NumClasses { get; init; } = 1000;
    public int ImageSize { get; init; } = 224;
    public int InChannels { get; init; } = 3;
    public float DropRate { get; init; }
    public float DropPathRate { get; init; }
    public IReadOnlyDictionary<string, double> Options { get; init; } = new Dictionary<string, double>();

    public double Option(string key, double fallback) => Options.TryGetValue(key, out var v) ? v : fallback;
    public int IntOption(string key, int fallback) => Options.TryGetValue(key, out var v) ? (int)v : fallback;
}
