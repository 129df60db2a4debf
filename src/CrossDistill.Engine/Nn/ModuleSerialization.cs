using CrossDistill.Engine.IO;

namespace CrossDistill.Engine.Nn;

/// <summary>Saving and loading a module's state dict as a safetensors file (PyTorch-compatible keys).</summary>
public static class ModuleSerialization
{
    /// <summary>Writes the parameters and persistent buffers to <paramref name="path"/> (atomically).</summary>
    public static void Save(this Module module, string path, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentException.ThrowIfNullOrEmpty(path);
        try
        {
            Safetensors.Save(path, module.StateDict(), metadata);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException && !e.Message.Contains(path, StringComparison.Ordinal))
        {
            throw new IOException($"Cannot save {module.GetType().Name} to '{path}': {e.Message}", e);
        }
    }

    /// <summary>
    /// Copies the tensors of a safetensors file into the module's parameters and buffers (see
    /// <see cref="Module.LoadStateDict"/>; with <paramref name="strict"/>, missing and unexpected keys
    /// fail). Errors name the file.
    /// </summary>
    public static LoadResult Load(this Module module, string path, bool strict = true)
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentException.ThrowIfNullOrEmpty(path);
        var state = Safetensors.Load(path);
        try
        {
            return module.LoadStateDict(state, strict, source: $"'{path}'");
        }
        catch (StateDictException e) when (!e.Message.Contains(path, StringComparison.Ordinal))
        {
            throw new StateDictException($"Cannot load '{path}' into {module.GetType().Name}: {e.Message}", e.MissingKeys, e.UnexpectedKeys, e.ShapeMismatches);
        }
        finally
        {
            foreach (var t in state.Values) t.Dispose();
        }
    }
}
