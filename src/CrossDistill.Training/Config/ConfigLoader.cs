using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace CrossDistill.Training.Config;

/// <summary>Reads a YAML config file, applies `--set key.path=value` overrides, and binds it.</summary>
public static class ConfigLoader
{
    public static ConfigNode ParseFile(string path)
    {
        if (!File.Exists(path)) throw new ConfigException(new[] { $"the config file does not exist" }, path);
        try { return ParseText(File.ReadAllText(path)); }
        catch (ConfigException e) { throw e.WithFile(path); }
    }

    public static ConfigNode ParseText(string yaml)
    {
        var stream = new YamlStream();
        try { stream.Load(new StringReader(yaml)); }
        catch (YamlException e) { throw new ConfigException(new[] { $"line {e.Start.Line}, column {e.Start.Column}: {e.Message}" }); }
        if (stream.Documents.Count == 0) return ConfigNode.EmptyMap();
        var root = ConfigNode.FromYaml(stream.Documents[0].RootNode, "");
        if (!root.IsMap && !root.IsNull) throw new ConfigException(new[] { "the top level must be a mapping of keys" });
        return root.IsNull ? ConfigNode.EmptyMap() : root;
    }

    /// <summary>Applies overrides of the form key.path=value (the value is parsed as YAML).</summary>
    public static void ApplyOverrides(ConfigNode root, IEnumerable<string> overrides)
    {
        foreach (var o in overrides)
        {
            int eq = o.IndexOf('=');
            if (eq <= 0) throw new ConfigException(new[] { $"--set '{o}': expected key.path=value" });
            var key = o[..eq].Trim();
            var valueText = o[(eq + 1)..];
            var parsed = ParseText("v: " + valueText).Get("v")!;
            root.SetPath(key, parsed);
        }
    }

    /// <summary>Loads, overrides and binds in one go; errors name the file.</summary>
    public static (T Config, ConfigNode Tree) Load<T>(string path, IEnumerable<string>? overrides = null) where T : new()
    {
        var tree = ParseFile(path);
        try
        {
            ApplyOverrides(tree, overrides ?? Array.Empty<string>());
            return (ConfigBinder.Bind<T>(tree), tree);
        }
        catch (ConfigException e) { throw e.WithFile(path); }
    }
}
