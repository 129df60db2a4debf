using System.Collections;
using System.Globalization;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.RepresentationModel;

namespace CrossDistill.Training.Config;

/// <summary>
/// Writes a bound config back out as YAML with every key, defaults included (config.resolved.yaml):
/// numbers in round-trip precision, strings quoted, so binding the file again gives the same values.
/// </summary>
public static class ConfigWriter
{
    /// <summary>The YAML of <paramref name="config"/>; <paramref name="replacements"/> supply values for raw sub-trees by key path (a method's bound params for method.params).</summary>
    public static string ToYaml(object config, IReadOnlyDictionary<string, object?>? replacements = null)
    {
        var root = (YamlMappingNode)ToNode(config, "", replacements ?? new Dictionary<string, object?>());
        var stream = new YamlStream(new YamlDocument(root));
        var writer = new StringWriter();
        stream.Save(writer, assignAnchors: false);
        var text = writer.ToString();
        // YamlStream ends documents with "...", which is valid but noisy.
        return text.EndsWith("...\n", StringComparison.Ordinal) ? text[..^4] : text.Replace("\r\n...\r\n", "\r\n");
    }

    private static YamlNode ToNode(object? value, string path, IReadOnlyDictionary<string, object?> replacements)
    {
        switch (value)
        {
            case null:
                return new YamlScalarNode("null") { Style = ScalarStyle.Plain };
            case string s:
                return new YamlScalarNode(s) { Style = ScalarStyle.DoubleQuoted };
            case bool b:
                return Plain(b ? "true" : "false");
            case float f:
                return Plain(f.ToString("R", CultureInfo.InvariantCulture));
            case double d:
                return Plain(d.ToString("R", CultureInfo.InvariantCulture));
            case Enum e:
                return Plain(ConfigBinder.SnakeCase(e.ToString()));
            case IFormattable n when value.GetType().IsPrimitive:
                return Plain(n.ToString(null, CultureInfo.InvariantCulture));
            case ConfigNode node:
                return FromConfigNode(node);
            case IDictionary dict:
            {
                var map = new YamlMappingNode();
                foreach (DictionaryEntry entry in dict)
                {
                    string key = Convert.ToString(entry.Key, CultureInfo.InvariantCulture)!;
                    map.Add(new YamlScalarNode(key), ToNode(entry.Value, ConfigNode.Join(path, key), replacements));
                }
                return map;
            }
            case IEnumerable list:
            {
                var seq = new YamlSequenceNode { Style = SequenceStyle.Flow };
                int i = 0;
                foreach (var item in list) seq.Add(ToNode(item, $"{path}[{i++}]", replacements));
                return seq;
            }
            default:
            {
                var map = new YamlMappingNode();
                foreach (var prop in ConfigBinder.Keys(value.GetType()))
                {
                    string key = ConfigBinder.KeyOf(prop);
                    string childPath = ConfigNode.Join(path, key);
                    var child = replacements.TryGetValue(childPath, out var replaced) ? replaced : prop.GetValue(value);
                    map.Add(new YamlScalarNode(key), ToNode(child, childPath, replacements));
                }
                return map;
            }
        }
    }

    private static YamlScalarNode Plain(string text) => new(text) { Style = ScalarStyle.Plain };

    private static YamlNode FromConfigNode(ConfigNode node)
    {
        if (node.IsMap)
        {
            var map = new YamlMappingNode();
            foreach (var (key, child) in node.Map!) map.Add(new YamlScalarNode(key), FromConfigNode(child));
            return map;
        }
        if (node.IsSequence)
        {
            var seq = new YamlSequenceNode();
            foreach (var child in node.Sequence!) seq.Add(FromConfigNode(child));
            return seq;
        }
        return node.IsNull ? Plain("null") : Plain(node.Scalar!);
    }
}
