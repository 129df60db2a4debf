using CrossDistill.Engine.Nn;

namespace CrossDistill.Models;

/// <summary>
/// Weight files of the zoo's models: safetensors with the state-dict names of the preset's naming
/// (torchvision or timm), so files move both ways between this engine and PyTorch.
/// </summary>
public static class Weights
{
    /// <summary>
    /// Loads a safetensors state dict strictly: a missing key, an unexpected key or a shape mismatch
    /// fails with one <see cref="StateDictException"/> that lists every problem and names the file.
    /// </summary>
    public static LoadResult LoadWeights(this VisionModel model, string path) => model.Load(path, strict: true);

    /// <summary>Writes the parameters and persistent buffers under their PyTorch names, with the architecture in the metadata.</summary>
    public static void SaveWeights(this VisionModel model, string path)
    {
        ArgumentNullException.ThrowIfNull(model);
        model.Save(path, new Dictionary<string, string> { ["architecture"] = model.ArchitectureName, ["format"] = "pt" });
    }
}
