using System.Collections;

namespace CrossDistill.Engine.Nn;

/// <summary>
/// Runs its modules one after another, as torch.nn.Sequential. Children are named "0", "1", … in
/// order unless given names, so state-dict keys match PyTorch's ("features.3.weight").
/// </summary>
public sealed class Sequential : Module<Tensor, Tensor>, IReadOnlyList<Module<Tensor, Tensor>>
{
    private readonly List<Module<Tensor, Tensor>> _layers = new();

    public Sequential() { }

    public Sequential(params Module<Tensor, Tensor>[] modules)
    {
        foreach (var m in modules) Add(m);
    }

    public Sequential(params (string Name, Module<Tensor, Tensor> Module)[] modules)
    {
        foreach (var (name, m) in modules) Add(name, m);
    }

    /// <summary>Appends <paramref name="module"/> under the next index as its name.</summary>
    public Sequential Add(Module<Tensor, Tensor> module) => Add(_layers.Count.ToString(System.Globalization.CultureInfo.InvariantCulture), module);

    public Sequential Add(string name, Module<Tensor, Tensor> module)
    {
        ArgumentNullException.ThrowIfNull(module);
        if (NamedChildren().Any(c => c.Name == name)) throw new ArgumentException($"Sequential: a module named '{name}' is already registered.", nameof(name));
        RegisterModule(name, module);
        _layers.Add(module);
        return this;
    }

    public int Count => _layers.Count;

    public Module<Tensor, Tensor> this[int index] => _layers[index < 0 ? index + _layers.Count : index];

    public override Tensor Forward(Tensor input)
    {
        var x = input;
        foreach (var layer in _layers) x = layer.Call(x);
        return x;
    }

    public IEnumerator<Module<Tensor, Tensor>> GetEnumerator() => _layers.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
