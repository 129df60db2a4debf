using System.Collections;
using System.Globalization;

namespace CrossDistill.Engine.Nn;

/// <summary>
/// Holds submodules in a list, as torch.nn.ModuleList: they are registered as children named
/// "0", "1", … so their parameters appear under those names; it has no forward of its own.
/// </summary>
public class ModuleList<T> : Module, IReadOnlyList<T> where T : Module
{
    private readonly List<T> _items = new();

    public ModuleList(params T[] modules) => AddRange(modules);

    public ModuleList(IEnumerable<T> modules) => AddRange(modules);

    public void Add(T module)
    {
        ArgumentNullException.ThrowIfNull(module);
        RegisterModule(_items.Count.ToString(CultureInfo.InvariantCulture), module);
        _items.Add(module);
    }

    public void AddRange(IEnumerable<T> modules)
    {
        ArgumentNullException.ThrowIfNull(modules);
        foreach (var m in modules) Add(m);
    }

    public int Count => _items.Count;

    /// <summary>The module at <paramref name="index"/>; negative indices count from the end.</summary>
    public T this[int index]
    {
        get
        {
            int i = index < 0 ? index + _items.Count : index;
            if (i < 0 || i >= _items.Count) throw new ArgumentOutOfRangeException(nameof(index), $"ModuleList: index {index} is out of range for {_items.Count} modules.");
            return _items[i];
        }
        set
        {
            int i = index < 0 ? index + _items.Count : index;
            if (i < 0 || i >= _items.Count) throw new ArgumentOutOfRangeException(nameof(index), $"ModuleList: index {index} is out of range for {_items.Count} modules.");
            ArgumentNullException.ThrowIfNull(value);
            RegisterModule(i.ToString(CultureInfo.InvariantCulture), value);
            _items[i] = value;
        }
    }

    public IEnumerator<T> GetEnumerator() => _items.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}

/// <summary>A <see cref="ModuleList{T}"/> of any modules.</summary>
public sealed class ModuleList : ModuleList<Module>
{
    public ModuleList(params Module[] modules) : base(modules) { }

    public ModuleList(IEnumerable<Module> modules) : base(modules) { }
}
