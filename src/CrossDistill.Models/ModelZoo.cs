using System.Reflection;

namespace CrossDistill.Models;

/// <summary>One named architecture configuration the zoo can build.</summary>
/// <param name="Name">torchvision's name where torchvision has the model (resnet18), timm's otherwise (deit_tiny_patch16_224), or one of our small presets (resnet18_cifar).</param>
/// <param name="Family">cnn, transformer or mlp.</param>
/// <param name="Naming">Whose state-dict names the weights use: torchvision or timm.</param>
/// <param name="DefaultImageSize">The input side the preset is designed for.</param>
/// <param name="Create">Builds the model for a config (classes, input size and channels, options).</param>
public sealed record ModelPreset(string Name, string Family, string Naming, int DefaultImageSize, string Description, Func<ModelConfig, VisionModel> Create);

/// <summary>Marks a static class with a <c>public static IEnumerable&lt;ModelPreset&gt; Presets()</c> method, found by the zoo.</summary>
[AttributeUsage(AttributeTargets.Class)]
public sealed class ModelPresetsAttribute : Attribute { }

/// <summary>The registry of architectures: every [ModelPresets] class of this assembly contributes its presets.</summary>
public static class ModelZoo
{
    private static readonly Lazy<IReadOnlyDictionary<string, ModelPreset>> All = new(Discover);

    public static IEnumerable<ModelPreset> Presets => All.Value.Values.OrderBy(p => p.Family).ThenBy(p => p.Name, StringComparer.Ordinal);

    public static bool Contains(string name) => All.Value.ContainsKey(name);

    public static ModelPreset Get(string name) => All.Value.TryGetValue(name, out var p) ? p
        : throw new KeyNotFoundException($"Unknown model '{name}'. Known models: {string.Join(", ", All.Value.Keys.Order(StringComparer.Ordinal))}.");

    /// <summary>Builds <paramref name="name"/> for <paramref name="config"/> (its image size defaults to the preset's).</summary>
    public static VisionModel Create(string name, ModelConfig? config = null)
    {
        var preset = Get(name);
        return preset.Create(config ?? new ModelConfig { ImageSize = preset.DefaultImageSize });
    }

    private static IReadOnlyDictionary<string, ModelPreset> Discover()
    {
        var result = new Dictionary<string, ModelPreset>(StringComparer.Ordinal);
        foreach (var type in typeof(ModelZoo).Assembly.GetTypes().Where(t => t.GetCustomAttribute<ModelPresetsAttribute>() is not null))
        {
            var method = type.GetMethod("Presets", BindingFlags.Public | BindingFlags.Static)
                ?? throw new InvalidOperationException($"{type.Name} is marked [ModelPresets] but has no public static Presets() method.");
            foreach (var preset in (IEnumerable<ModelPreset>)method.Invoke(null, null)!)
                if (!result.TryAdd(preset.Name, preset)) throw new InvalidOperationException($"Model name '{preset.Name}' is registered twice.");
        }
        return result;
    }
}
