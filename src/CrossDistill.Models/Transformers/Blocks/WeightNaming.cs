namespace CrossDistill.Models.Transformers;

/// <summary>
/// Whose state-dict names a model registers its modules under. One implementation serves both:
/// the module tree is the same, only the names (and the nesting they imply) differ, so a
/// checkpoint exported by either library loads strictly.
/// </summary>
public enum WeightNaming
{
    /// <summary>timm's names (blocks.0.attn.qkv, mlp.fc1, patch_embed.proj).</summary>
    Timm,

    /// <summary>torchvision's names (encoder.layers.encoder_layer_0.self_attention.in_proj_weight, mlp.0, features.0.0).</summary>
    Torchvision,
}

internal static class WeightNamingExtensions
{
    /// <summary>The value of <see cref="ModelPreset.Naming"/>.</summary>
    public static string PresetName(this WeightNaming naming) => naming == WeightNaming.Timm ? "timm" : "torchvision";
}
