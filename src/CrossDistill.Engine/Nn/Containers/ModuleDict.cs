using System.Collections;
using System.Diagnostics.CodeAnalysis;

namespace CrossDistill.Engine.Nn;

/// <summary>
/// Holds submodules by name in insertion order, as torch.nn.ModuleDict; each is registered as a
/// child under its key (which may not contain '.').
/// </summary>
public class ModuleDict<T> : Module, IReadOnlyDictionary<string, T> where T : Module
{
    private readonly List<string> _order = new();
    private readonly Dictionary<string, T> _items = new(StringComparer.Ordinal);

    public ModuleDict() { }

    public ModuleDict(IEnumerable<(string Name, T Module)> modules)
    {
        ArgumentNullException.ThrowIfNull(modules);
        foreach (var (name, m) in modules) this[name] = m;
    }

    public void Add(string name, T module)
    {
        if (_items.ContainsKey(name)) throw new ArgumentException($"ModuleDict: a module named '{name}' is already registered.", nameof(name));
        this[name] = module;
    }

    /// <summary>Gets the module named <paramref name="name"/>, or adds or replaces it (keeping its position).</summary>
    public T this[string name]
    {
        get => _items.TryGetValue(name, out var m) ? m
            : throw new KeyNotFoundException($"ModuleDict has no module named '{name}' (it has: {string.Join(", ", _order)}).");
        set
        {
            ArgumentNullException.ThrowIfNull(value);
            RegisterModule(name, value);
            if (!_items.ContainsKey(name)) _order.Add(name);
            _items[name] = value;
        }
    }

    public int Count => _order.Count;

    public IEnumerable<string> Keys => _order;

    public IEnumerable<T> Values => _order.Select(k => _items[k]);

    public bool ContainsKey(string key) => _items.ContainsKey(key);

    public bool TryGetValue(string key, [MaybeNullWhen(false)] out T value) => _items.TryGetValue(key, out value);

    public IEnumerator<KeyValuePair<string, T>> GetEnumerator() => _order.Select(k => new KeyValuePair<string, T>(k, _items[k])).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}

/// <summary>A <see cref="ModuleDict{T}"/> of any modules.</summary>
public sealed class ModuleDict : ModuleDict<Module>
{
    public ModuleDict() { }

    public ModuleDict(IEnumerable<(string Name, Module Module)> modules) : base(modules) { }
}
