using System.Collections;
using System.Globalization;
using System.Reflection;

namespace CrossDistill.Training.Config;

/// <summary>One documented config key: its path, type, default and description.</summary>
public sealed record ConfigKeyDoc(string Path, string Type, string Default, string Description, string? Range);

/// <summary>Walks a config class (as <see cref="ConfigBinder"/> binds it) and lists every key with its default.</summary>
public static class ConfigDocs
{
    public static IReadOnlyList<ConfigKeyDoc> Describe(Type type, string prefix = "")
    {
        var result = new List<ConfigKeyDoc>();
        Walk(type, Activator.CreateInstance(type)!, prefix, result);
        return result;
    }

    private static void Walk(Type type, object instance, string prefix, List<ConfigKeyDoc> result)
    {
        foreach (var prop in ConfigBinder.Keys(type))
        {
            string path = ConfigNode.Join(prefix, ConfigBinder.KeyOf(prop));
            var value = prop.GetValue(instance);
            var doc = prop.GetCustomAttribute<ConfigDocAttribute>()?.Text ?? "";
            var propType = Nullable.GetUnderlyingType(prop.PropertyType) ?? prop.PropertyType;
            bool isSection = propType.IsClass && propType != typeof(string) && propType != typeof(ConfigNode) && !propType.IsArray && !propType.IsGenericType;
            if (isSection)
            {
                var section = value ?? Activator.CreateInstance(propType)!;
                string note = value is null ? " (optional section)" : "";
                if (doc.Length > 0 || note.Length > 0) result.Add(new ConfigKeyDoc(path, "section", value is null ? "null" : "", (doc + note).Trim(), null));
                Walk(propType, section, path, result);
                continue;
            }
            var range = prop.GetCustomAttribute<ConfigRangeAttribute>() is { } r ? $"[{Number(r.Min)}, {Number(r.Max)}]" : null;
            if (prop.GetCustomAttribute<ConfigRequiredAttribute>() is not null) doc = (doc + " (required)").Trim();
            result.Add(new ConfigKeyDoc(path, TypeName(propType), Format(value), doc, range));
        }
    }

    private static string TypeName(Type t)
    {
        if (t == typeof(ConfigNode)) return "mapping";
        if (t.IsArray) return "list of " + TypeName(t.GetElementType()!);
        if (t.IsGenericType && t.GetGenericTypeDefinition() == typeof(Dictionary<,>)) return "mapping of " + TypeName(t.GetGenericArguments()[1]);
        if (t == typeof(int) || t == typeof(long) || t == typeof(ulong)) return "integer";
        if (t == typeof(float) || t == typeof(double)) return "number";
        if (t == typeof(bool)) return "bool";
        if (t == typeof(string)) return "string";
        if (t.IsEnum) return string.Join("|", Enum.GetNames(t).Select(ConfigBinder.SnakeCase));
        return t.Name;
    }

    public static string Format(object? value) => value switch
    {
        null => "null",
        string s => s.Length == 0 ? "\"\"" : s,
        bool b => b ? "true" : "false",
        float f => Number(f),
        double d => Number(d),
        Enum e => ConfigBinder.SnakeCase(e.ToString()),
        IDictionary { Count: 0 } => "{}",
        IDictionary dict => "{" + string.Join(", ", dict.Keys.Cast<object>().Select(k => $"{k}: {Format(dict[k])}")) + "}",
        IEnumerable list => "[" + string.Join(", ", list.Cast<object?>().Select(Format)) + "]",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };

    private static string Number(double v) => v == Math.Floor(v) && Math.Abs(v) < 1e15
        ? ((long)v).ToString(CultureInfo.InvariantCulture)
        : v.ToString("G6", CultureInfo.InvariantCulture);

    private static string Number(float v) => v.ToString("G6", CultureInfo.InvariantCulture);
}
