using System.Reflection;
using CrossDistill.Training.Config;

namespace CrossDistill.Training.Distillers;

/// <summary>Registers a <see cref="Distiller"/> under the name configs select it by (method.name).</summary>
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
public sealed class DistillerAttribute : Attribute
{
    public DistillerAttribute(string name, string description)
    {
        Name = name;
        Description = description;
    }

    public string Name { get; }
    public string Description { get; }

    /// <summary>How many teachers the method needs (0: none, as vanilla).</summary>
    public int Teachers { get; init; }
}

/// <summary>One registered method: its name, what it is, its teachers and its parameter class.</summary>
public sealed record DistillerInfo(string Name, string Description, int Teachers, Type Type, Type? ParamsType)
{
    public bool NeedsTeacher => Teachers > 0;
}

/// <summary>
/// Every [Distiller] class of this assembly, by name. Binding a method's parameters goes through
/// <see cref="ConfigBinder"/>, so unknown keys, wrong types and out-of-range values are reported
/// with their key path (method.params.temperature).
/// </summary>
public static class DistillerRegistry
{
    private static readonly Lazy<Dictionary<string, DistillerInfo>> Registered = new(Discover);

    private static Dictionary<string, DistillerInfo> All
    {
        get
        {
            lock (Registered) return new Dictionary<string, DistillerInfo>(Registered.Value, StringComparer.Ordinal);
        }
    }

    public static IEnumerable<DistillerInfo> Methods => All.Values.OrderBy(m => m.Name, StringComparer.Ordinal);

    public static bool Contains(string name) => All.ContainsKey(name);

    /// <summary>The method called <paramref name="name"/>; a config error naming method.name otherwise.</summary>
    public static DistillerInfo Get(string name) => All.TryGetValue(name, out var info) ? info
        : throw new ConfigException(new[] { $"method.name: unknown method '{name}' (known methods: {string.Join(", ", All.Keys.Order(StringComparer.Ordinal))})" });

    /// <summary>The method's Params bound from <paramref name="node"/> (null: all defaults), or null for a method without parameters.</summary>
    public static object? BindParams(DistillerInfo info, ConfigNode? node)
    {
        if (info.ParamsType is null)
        {
            if (node is { IsNull: false } && !(node.IsMap && node.Map!.Count == 0))
                throw new ConfigException(new[] { $"{(node.Path.Length > 0 ? node.Path : "method.params")}: method '{info.Name}' takes no parameters" });
            return null;
        }
        var bind = typeof(ConfigBinder).GetMethod(nameof(ConfigBinder.Bind))!.MakeGenericMethod(info.ParamsType);
        try
        {
            return bind.Invoke(null, new object?[] { node });
        }
        catch (TargetInvocationException e) when (e.InnerException is ConfigException inner)
        {
            // Defaults bound from no node report paths relative to the params; anchor them.
            if (node is null) throw new ConfigException(inner.Problems.Select(p => "method.params." + p).ToList());
            throw inner;
        }
    }

    public static Distiller Create(DistillerInfo info, DistillerSetup setup, object? parameters)
    {
        if (setup.Teachers.Count < info.Teachers)
            throw new ArgumentException($"Method '{info.Name}' needs {info.Teachers} teacher(s), got {setup.Teachers.Count}.");
        var args = info.ParamsType is null ? new object[] { setup } : new[] { setup, parameters ?? Activator.CreateInstance(info.ParamsType)! };
        try
        {
            return (Distiller)Activator.CreateInstance(info.Type, args)!;
        }
        catch (TargetInvocationException e) when (e.InnerException is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.InnerException).Throw();
            throw;
        }
    }

    /// <summary>Adds a [Distiller] class from another assembly (a plug-in, a test); registering the same class again is a no-op.</summary>
    public static DistillerInfo Register(Type type)
    {
        var info = Describe(type);
        lock (Registered)
        {
            var all = Registered.Value;
            if (all.TryGetValue(info.Name, out var existing))
            {
                if (existing.Type == type) return existing;
                throw new InvalidOperationException($"Method name '{info.Name}' is already registered by {existing.Type.FullName}.");
            }
            all[info.Name] = info;
        }
        return info;
    }

    private static DistillerInfo Describe(Type type)
    {
        if (type.GetCustomAttribute<DistillerAttribute>() is not { } attribute)
            throw new InvalidOperationException($"{type.Name} is not marked [Distiller].");
        if (!typeof(Distiller).IsAssignableFrom(type) || type.IsAbstract)
            throw new InvalidOperationException($"{type.Name} is marked [Distiller] but is not a concrete Distiller.");
        var paramsType = type.GetNestedType("Params", BindingFlags.Public);
        var signature = paramsType is null ? new[] { typeof(DistillerSetup) } : new[] { typeof(DistillerSetup), paramsType };
        if (type.GetConstructor(signature) is null)
            throw new InvalidOperationException($"Distiller {type.Name} needs a public constructor ({string.Join(", ", signature.Select(t => t.Name))}).");
        return new DistillerInfo(attribute.Name, attribute.Description, attribute.Teachers, type, paramsType);
    }

    private static Dictionary<string, DistillerInfo> Discover()
    {
        var result = new Dictionary<string, DistillerInfo>(StringComparer.Ordinal);
        foreach (var type in typeof(Distiller).Assembly.GetTypes().Where(t => t.GetCustomAttribute<DistillerAttribute>() is not null))
        {
            var info = Describe(type);
            if (!result.TryAdd(info.Name, info)) throw new InvalidOperationException($"Method name '{info.Name}' is registered twice.");
        }
        return result;
    }
}
