using YamlDotNet.RepresentationModel;

namespace CrossDistill.Training.Config;

/// <summary>
/// A parsed YAML value that remembers where it sits (its key path and line), so every error can
/// name the key at fault: a mapping, a sequence or a scalar.
/// </summary>
public sealed class ConfigNode
{
    private ConfigNode(string path, int line) { Path = path; Line = line; }

    public string Path { get; }
    public int Line { get; }
    public string? Scalar { get; private set; }
    public bool IsNull { get; private set; }
    public List<KeyValuePair<string, ConfigNode>>? Map { get; private set; }
    public List<ConfigNode>? Sequence { get; private set; }

    public bool IsMap => Map is not null;
    public bool IsSequence => Sequence is not null;
    public bool IsScalar => Scalar is not null;

    public string Kind => IsMap ? "a mapping" : IsSequence ? "a list" : IsNull ? "null" : $"the value '{Scalar}'";

    public static ConfigNode EmptyMap(string path = "") => new(path, 0) { Map = new() };

    public static ConfigNode FromYaml(YamlNode node, string path)
    {
        int line = (int)node.Start.Line;
        switch (node)
        {
            case YamlMappingNode m:
                var map = new ConfigNode(path, line) { Map = new() };
                foreach (var (k, v) in m.Children)
                {
                    var key = ((YamlScalarNode)k).Value ?? "";
                    if (map.Map.Any(kv => kv.Key == key)) throw new ConfigException(new[] { $"{Join(path, key)}: duplicate key (line {k.Start.Line})" });
                    map.Map.Add(new(key, FromYaml(v, Join(path, key))));
                }
                return map;
            case YamlSequenceNode s:
                return new ConfigNode(path, line) { Sequence = s.Children.Select((c, i) => FromYaml(c, $"{path}[{i}]")).ToList() };
            case YamlScalarNode sc:
                bool isNull = sc.Style == YamlDotNet.Core.ScalarStyle.Plain && (sc.Value is null or "" or "~" or "null" or "Null" or "NULL");
                return new ConfigNode(path, line) { Scalar = isNull ? null : sc.Value ?? "", IsNull = isNull };
            default:
                throw new ConfigException(new[] { $"{path}: unsupported YAML node" });
        }
    }

    public static ConfigNode FromScalar(string path, string? value) =>
        new(path, 0) { Scalar = value, IsNull = value is null };

    public ConfigNode? Get(string key) => Map?.FirstOrDefault(kv => kv.Key == key).Value;

    /// <summary>Sets the value at a dotted path below this mapping, creating mappings on the way (for --set).</summary>
    public void SetPath(string dottedPath, ConfigNode value)
    {
        var parts = dottedPath.Split('.');
        var node = this;
        for (int i = 0; i < parts.Length; i++)
        {
            if (node.Map is null) throw new ConfigException(new[] { $"{node.Path}: cannot set '{dottedPath}' because {node.Path} is {node.Kind}, not a mapping" });
            string key = parts[i];
            int idx = node.Map.FindIndex(kv => kv.Key == key);
            string childPath = Join(node.Path, key);
            if (i == parts.Length - 1)
            {
                var rebased = value.Rebase(childPath);
                if (idx >= 0) node.Map[idx] = new(key, rebased);
                else node.Map.Add(new(key, rebased));
                return;
            }
            if (idx < 0 || node.Map[idx].Value.IsNull)
            {
                var created = new ConfigNode(childPath, 0) { Map = new() };
                if (idx >= 0) node.Map[idx] = new(key, created); else node.Map.Add(new(key, created));
                node = created;
            }
            else node = node.Map[idx].Value;
        }
    }

    private ConfigNode Rebase(string path)
    {
        var copy = new ConfigNode(path, Line) { Scalar = Scalar, IsNull = IsNull };
        if (Map is not null) copy.Map = Map.Select(kv => new KeyValuePair<string, ConfigNode>(kv.Key, kv.Value.Rebase(Join(path, kv.Key)))).ToList();
        if (Sequence is not null) copy.Sequence = Sequence.Select((c, i) => c.Rebase($"{path}[{i}]")).ToList();
        return copy;
    }

    /// <summary>Plain values (dictionaries, lists, strings) for writing the resolved config back out.</summary>
    public object? ToPlain() => IsMap ? Map!.ToDictionary(kv => kv.Key, kv => kv.Value.ToPlain())
        : IsSequence ? Sequence!.Select(c => c.ToPlain()).ToList()
        : Scalar;

    public static string Join(string path, string key) => path.Length == 0 ? key : path + "." + key;
}
