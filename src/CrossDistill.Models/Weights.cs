using CrossDistill.Engine.Nn;

namespace CrossDistill.Models;

/// <summary>
/// Importing and exporting a zoo model's weights as safetensors under its library's state-dict
/// names (timm or torchvision, see <see cref="ModelPreset.Naming"/>), so a checkpoint converted from
/// PyTorch with safetensors' save_file(model.state_dict()) loads as is.
/// </summary>
public static class Weights
{
    /// <summary>
    /// Loads every parameter and persistent buffer from <paramref name="path"/>. Strict: one error,
    /// naming the file, lists all missing, unexpected and shape-mismatched keys, and nothing is
    /// copied unless the file fits the model.
    /// </summary>
    public static void LoadWeights(this VisionModel model, string path)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (!File.Exists(path)) throw new FileNotFoundException($"Cannot load weights into {model.ArchitectureName}: '{path}' does not exist.", path);
        model.Load(path, strict: true);
    }

    /// <summary>Writes the parameters and persistent buffers to <paramref name="path"/>, recording the architecture in the metadata.</summary>
    public static void SaveWeights(this VisionModel model, string path)
    {
        ArgumentNullException.ThrowIfNull(model);
        model.Save(path, new Dictionary<string, string> { ["format"] = "pt", ["architecture"] = model.ArchitectureName });
    }
}
