using System.Globalization;
using System.Reflection;
using System.Text;

namespace CrossDistill.Training.Config;

/// <summary>
/// Binds a <see cref="ConfigNode"/> tree onto plain classes: YAML keys are the snake_case names of
/// public settable properties; unknown keys, wrong types, out-of-range values and missing required
/// keys are all collected, each with its key path, into one <see cref="ConfigException"/>.
/// A property of type <see cref="ConfigNode"/> keeps its sub-tree raw, to be bound later by its
/// owner (a method's own parameters, for instance).
/// </summary>
public static class ConfigBinder
{
    public static T Bind<T>(ConfigNode? node) where T : new()
    {
        var problems = new List<string>();
        var result = (T)BindObject(typeof(T), node, node?.Path ?? "", problems);
        if (problems.Count > 0) throw new ConfigException(problems);
        return result;
    }

    public static string KeyOf(PropertyInfo p) => SnakeCase(p.Name);

    public static IEnumerable<PropertyInfo> Keys(Type t) =>
        t.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite && p.GetSetMethod() is not null);

    private static object BindObject(Type type, ConfigNode? node, string path, List<string> problems)
    {
        var obj = Activator.CreateInstance(type)!;
        var props = Keys(type).ToDictionary(KeyOf);
        if (node is not null && !node.IsNull)
        {
            if (!node.IsMap)
            {
                problems.Add($"{Display(path)}: expected a mapping, got {node.Kind}");
                return obj;
            }
            foreach (var (key, child) in node.Map!)
            {
                if (!props.TryGetValue(key, out var prop))
                {
                    problems.Add($"{ConfigNode.Join(path, key)}: unknown key (known keys: {string.Join(", ", props.Keys)})");
                    continue;
                }
                var value = BindValue(prop.PropertyType, child, ConfigNode.Join(path, key), problems);
                if (value is Missing) continue;
                if (value is not null && prop.GetCustomAttribute<ConfigRangeAttribute>() is { } range)
                {
                    double d = Convert.ToDouble(value, CultureInfo.InvariantCulture);
                    // A float property holds the bound rounded to float (0.01 → 0.0099999998): compare at its precision.
                    bool outside = value is float f ? f < (float)range.Min || f > (float)range.Max : d < range.Min || d > range.Max;
                    if (outside)
                    {
                        problems.Add($"{ConfigNode.Join(path, key)}: {Format(value)} is out of range [{range.Min.ToString(CultureInfo.InvariantCulture)}, {range.Max.ToString(CultureInfo.InvariantCulture)}]");
                        continue;
                    }
                }
                prop.SetValue(obj, value);
            }
        }
        // Sections left out still get their required keys checked.
        var given = node?.Map?.Select(kv => kv.Key).ToHashSet() ?? new HashSet<string>();
        foreach (var (key, prop) in props)
            if (!given.Contains(key) && IsSection(prop.PropertyType) && prop.GetValue(obj) is not null)
                prop.SetValue(obj, BindObject(prop.PropertyType, null, ConfigNode.Join(path, key), problems));
        foreach (var (key, prop) in props)
            if (prop.GetCustomAttribute<ConfigRequiredAttribute>() is not null && prop.GetValue(obj) is null or "")
                problems.Add($"{ConfigNode.Join(path, key)}: required key is missing");
        return obj;
    }

    private static bool IsSection(Type t) => t.IsClass && t != typeof(string) && t != typeof(ConfigNode) && !t.IsArray && !t.IsGenericType;

    private sealed class Missing { public static readonly Missing Value = new(); }

    private static object? BindValue(Type type, ConfigNode node, string path, List<string> problems)
    {
        if (type == typeof(ConfigNode)) return node;
        var underlying = Nullable.GetUnderlyingType(type);
        if (node.IsNull)
        {
            if (underlying is not null || !type.IsValueType) return null;
            problems.Add($"{path}: null is not allowed here (expected {TypeName(type)})");
            return Missing.Value;
        }
        type = underlying ?? type;
        if (type.IsArray || (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(List<>)))
        {
            var element = type.IsArray ? type.GetElementType()! : type.GetGenericArguments()[0];
            var items = node.IsSequence ? node.Sequence! : node.IsScalar ? new List<ConfigNode> { node } : null;
            if (items is null) { problems.Add($"{path}: expected a list of {TypeName(element)}, got {node.Kind}"); return Missing.Value; }
            var values = items.Select(i => BindValue(element, i, i.Path, problems)).ToList();
            if (values.Any(v => v is Missing)) return Missing.Value;
            var array = Array.CreateInstance(element, values.Count);
            for (int i = 0; i < values.Count; i++) array.SetValue(values[i], i);
            if (type.IsArray) return array;
            var list = (System.Collections.IList)Activator.CreateInstance(type)!;
            foreach (var v in array) list.Add(v);
            return list;
        }
        if (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(Dictionary<,>))
        {
            var valueType = type.GetGenericArguments()[1];
            if (!node.IsMap) { problems.Add($"{path}: expected a mapping, got {node.Kind}"); return Missing.Value; }
            var dict = (System.Collections.IDictionary)Activator.CreateInstance(type)!;
            foreach (var (k, v) in node.Map!)
            {
                var value = BindValue(valueType, v, ConfigNode.Join(path, k), problems);
                if (value is not Missing) dict[k] = value;
            }
            return dict;
        }
        if (type.IsClass && type != typeof(string)) return BindObject(type, node, path, problems);
        if (!node.IsScalar) { problems.Add($"{path}: expected {TypeName(type)}, got {node.Kind}"); return Missing.Value; }
        var s = node.Scalar!;
        object? parsed = type switch
        {
            _ when type == typeof(string) => s,
            _ when type == typeof(int) => int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var i) ? i : null,
            _ when type == typeof(long) => long.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var l) ? l : null,
            _ when type == typeof(ulong) => ulong.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var u) ? u : null,
            _ when type == typeof(float) => float.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var f) && float.IsFinite(f) ? f : null,
            _ when type == typeof(double) => double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && double.IsFinite(d) ? d : null,
            _ when type == typeof(bool) => s.ToLowerInvariant() switch { "true" or "yes" or "on" => true, "false" or "no" or "off" => false, _ => null },
            _ when type.IsEnum => Enum.GetNames(type).FirstOrDefault(n => SnakeCase(n) == s.ToLowerInvariant() || n.Equals(s, StringComparison.OrdinalIgnoreCase)) is { } name ? Enum.Parse(type, name) : null,
            _ => throw new InvalidOperationException($"Config type {type} is not supported."),
        };
        if (parsed is null)
        {
            problems.Add($"{path}: '{s}' is not {TypeName(type)}");
            return Missing.Value;
        }
        return parsed;
    }

    public static string TypeName(Type t)
    {
        t = Nullable.GetUnderlyingType(t) ?? t;
        if (t == typeof(int) || t == typeof(long) || t == typeof(ulong)) return "an integer";
        if (t == typeof(float) || t == typeof(double)) return "a number";
        if (t == typeof(bool)) return "true or false";
        if (t == typeof(string)) return "a string";
        if (t.IsEnum) return "one of " + string.Join(", ", Enum.GetNames(t).Select(SnakeCase));
        return t.Name;
    }

    private static string Format(object v) => Convert.ToString(v, CultureInfo.InvariantCulture) ?? "";

    private static string Display(string path) => path.Length == 0 ? "(top level)" : path;

    public static string SnakeCase(string name)
    {
        var sb = new StringBuilder();
        for (int i = 0; i < name.Length; i++)
        {
            char c = name[i];
            if (char.IsUpper(c))
            {
                if (i > 0 && (char.IsLower(name[i - 1]) || char.IsDigit(name[i - 1]) || (i + 1 < name.Length && char.IsLower(name[i + 1])))) sb.Append('_');
                sb.Append(char.ToLowerInvariant(c));
            }
            else sb.Append(c);
        }
        return sb.ToString();
    }
}
