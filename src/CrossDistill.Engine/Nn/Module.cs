namespace CrossDistill.Engine.Nn;

/// <summary>
/// The base of every layer and model, as torch.nn.Module: named parameters, buffers and
/// submodules registered in order (their names make the state-dict keys, e.g.
/// "layer1.0.conv1.weight"), train/eval mode, and state dicts. Parameters and buffers live outside
/// every disposal scope; the module owns them and releases them in <see cref="Dispose"/>.
/// </summary>
public abstract class Module : IDisposable
{
    private readonly List<KeyValuePair<string, Tensor?>> _parameters = new();
    private readonly List<KeyValuePair<string, Tensor?>> _buffers = new();
    private readonly HashSet<string> _nonPersistent = new();
    private readonly List<KeyValuePair<string, Module?>> _modules = new();

    public bool Training { get; private set; } = true;

    /// <summary>Registers (or replaces) a parameter: a leaf that requires grad, owned by this module.</summary>
    protected Tensor RegisterParameter(string name, Tensor tensor)
    {
        CheckName(name);
        tensor.DetachFromScopes();
        if (tensor.IsLeaf && !tensor.RequiresGrad) tensor.RequiresGrad = true;
        if (!tensor.IsLeaf) throw new ArgumentException($"Parameter '{name}' must be a leaf tensor; pass x.Detach().");
        tensor.Name ??= name;
        Set(_parameters, name, tensor);
        return tensor;
    }

    /// <summary>Registers a buffer: state that is saved but not trained (running means, counters).</summary>
    protected Tensor RegisterBuffer(string name, Tensor tensor, bool persistent = true)
    {
        CheckName(name);
        tensor.DetachFromScopes();
        tensor.Name ??= name;
        Set(_buffers, name, tensor);
        if (!persistent) _nonPersistent.Add(name);
        return tensor;
    }

    /// <summary>Registers a submodule under <paramref name="name"/> and returns it.</summary>
    protected T RegisterModule<T>(string name, T module) where T : Module
    {
        CheckName(name);
        Set(_modules, name, (Module?)module);
        return module;
    }

    private static void CheckName(string name)
    {
        if (string.IsNullOrEmpty(name) || name.Contains('.')) throw new ArgumentException($"Invalid name '{name}': names are non-empty and contain no '.'.");
    }

    private static void Set<T>(List<KeyValuePair<string, T>> list, string name, T value)
    {
        int i = list.FindIndex(kv => kv.Key == name);
        if (i >= 0) list[i] = new(name, value);
        else list.Add(new(name, value));
    }

    public IEnumerable<(string Name, Module Module)> NamedChildren()
    {
        foreach (var (name, m) in _modules) if (m is not null) yield return (name, m);
    }

    public IEnumerable<Module> Children() => NamedChildren().Select(c => c.Module);

    /// <summary>This module and all below it, with dotted names ("" for this one).</summary>
    public IEnumerable<(string Name, Module Module)> NamedModules(string prefix = "")
    {
        yield return (prefix, this);
        foreach (var (name, m) in NamedChildren())
            foreach (var sub in m.NamedModules(Join(prefix, name))) yield return sub;
    }

    public IEnumerable<Module> Modules() => NamedModules().Select(m => m.Module);

    public IEnumerable<(string Name, Tensor Parameter)> NamedParameters(bool recurse = true)
    {
        var seen = new HashSet<Tensor>(ReferenceEqualityComparer.Instance);
        foreach (var (prefix, m) in recurse ? NamedModules() : new[] { ("", this) })
            foreach (var (name, p) in m._parameters)
                if (p is not null && seen.Add(p)) yield return (Join(prefix, name), p);
    }

    public IEnumerable<Tensor> Parameters(bool recurse = true) => NamedParameters(recurse).Select(p => p.Parameter);

    public IEnumerable<(string Name, Tensor Buffer)> NamedBuffers(bool recurse = true)
    {
        foreach (var (prefix, m) in recurse ? NamedModules() : new[] { ("", this) })
            foreach (var (name, b) in m._buffers)
                if (b is not null) yield return (Join(prefix, name), b);
    }

    /// <summary>The number of trainable elements.</summary>
    public long ParameterCount() => Parameters().Sum(p => (long)p.Numel);

    private static string Join(string prefix, string name) => prefix.Length == 0 ? name : prefix + "." + name;

    /// <summary>Sets training mode here and below (dropout, batch-norm statistics).</summary>
    public virtual Module Train(bool mode = true)
    {
        Training = mode;
        foreach (var child in Children()) child.Train(mode);
        return this;
    }

    public Module Eval() => Train(false);

    /// <summary>Drops every parameter's gradient (PyTorch's zero_grad(set_to_none=True)).</summary>
    public void ZeroGrad()
    {
        foreach (var p in Parameters())
        {
            p.Grad?.Dispose();
            p.Grad = null;
        }
    }

    /// <summary>Parameters and persistent buffers by dotted name, in registration order.</summary>
    public Dictionary<string, Tensor> StateDict()
    {
        var state = new Dictionary<string, Tensor>();
        foreach (var (prefix, m) in NamedModules())
        {
            foreach (var (name, p) in m._parameters) if (p is not null) state[Join(prefix, name)] = p;
            foreach (var (name, b) in m._buffers) if (b is not null && !m._nonPersistent.Contains(name)) state[Join(prefix, name)] = b;
        }
        return state;
    }

    /// <summary>
    /// Copies values from <paramref name="state"/> into this module's parameters and buffers.
    /// Shape mismatches always fail; with <paramref name="strict"/>, missing and unexpected keys fail
    /// too. Every problem is listed in one error, and nothing is copied unless all is well.
    /// </summary>
    public LoadResult LoadStateDict(IReadOnlyDictionary<string, Tensor> state, bool strict = true, string? source = null)
    {
        var own = StateDict();
        var missing = own.Keys.Where(k => !state.ContainsKey(k)).ToList();
        var unexpected = state.Keys.Where(k => !own.ContainsKey(k)).ToList();
        var mismatched = own.Where(kv => state.TryGetValue(kv.Key, out var v) && !v.Shape.AsSpan().SequenceEqual(kv.Value.Shape))
            .Select(kv => $"{kv.Key}: expected {ShapeUtil.Format(kv.Value.Shape)}, got {ShapeUtil.Format(state[kv.Key].Shape)}").ToList();
        var problems = new List<string>();
        if (mismatched.Count > 0) problems.Add("shape mismatches: " + string.Join("; ", mismatched));
        if (strict && missing.Count > 0) problems.Add("missing keys: " + string.Join(", ", missing));
        if (strict && unexpected.Count > 0) problems.Add("unexpected keys: " + string.Join(", ", unexpected));
        if (problems.Count > 0)
            throw new StateDictException($"Cannot load state dict{(source is null ? "" : " from " + source)} into {GetType().Name}: {string.Join(" | ", problems)}", missing, unexpected, mismatched);
        using (GradMode.NoGrad())
        {
            foreach (var (key, target) in own)
            {
                if (!state.TryGetValue(key, out var value)) continue;
                if (value.DType != target.DType) throw new StateDictException($"Cannot load '{key}': dtype {value.DType} where {target.DType} is expected.", missing, unexpected, mismatched);
                target.CopyFrom(value);
            }
        }
        return new LoadResult(missing, unexpected);
    }

    public void Dispose()
    {
        foreach (var p in Parameters()) { p.Grad?.Dispose(); p.Dispose(); }
        foreach (var (_, b) in NamedBuffers()) b.Dispose();
        GC.SuppressFinalize(this);
    }
}

/// <summary>A module with a typed forward, as torch.nn.Module.forward.</summary>
public abstract class Module<TIn, TOut> : Module
{
    public abstract TOut Forward(TIn input);

    /// <summary>Runs <see cref="Forward"/> (the entry point, as calling a PyTorch module).</summary>
    public TOut Call(TIn input) => Forward(input);
}

public sealed record LoadResult(IReadOnlyList<string> MissingKeys, IReadOnlyList<string> UnexpectedKeys);

public sealed class StateDictException : Exception
{
    public StateDictException(string message, IReadOnlyList<string> missing, IReadOnlyList<string> unexpected, IReadOnlyList<string> mismatched) : base(message)
    {
        MissingKeys = missing;
        UnexpectedKeys = unexpected;
        ShapeMismatches = mismatched;
    }

    public IReadOnlyList<string> MissingKeys { get; }
    public IReadOnlyList<string> UnexpectedKeys { get; }
    public IReadOnlyList<string> ShapeMismatches { get; }
}
