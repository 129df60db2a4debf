using System.Globalization;

namespace CrossDistill.Engine.Optim;

/// <summary>
/// The base of the optimizers, as torch.optim.Optimizer: parameter groups with their own
/// hyper-parameters, per-parameter state (momentum buffers, moment estimates, step counts) that
/// lives outside every disposal scope, <see cref="ZeroGrad"/> (set to none), and state dicts a
/// safetensors checkpoint can hold (<see cref="OptimizerState"/>).
/// </summary>
public abstract class Optimizer : IDisposable
{
    private readonly List<ParamGroup> _groups = new();
    private readonly Dictionary<string, double> _defaults;
    private readonly Dictionary<Tensor, ParamState> _state = new(ReferenceEqualityComparer.Instance);
    private readonly HashSet<Tensor> _allParams = new(ReferenceEqualityComparer.Instance);

    protected Optimizer(IEnumerable<ParamGroup> groups, IReadOnlyDictionary<string, double> defaults)
    {
        ArgumentNullException.ThrowIfNull(groups);
        _defaults = new Dictionary<string, double>(defaults, StringComparer.Ordinal);
        foreach (var group in groups) AddParamGroup(group);
        if (_groups.Count == 0) throw new ArgumentException($"{Name}: got an empty list of parameter groups.", nameof(groups));
    }

    /// <summary>Wraps a plain parameter list as the single group PyTorch makes of it.</summary>
    protected static IEnumerable<ParamGroup> SingleGroup(IEnumerable<Tensor> parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        return new[] { new ParamGroup(parameters) };
    }

    public string Name => GetType().Name;

    public IReadOnlyList<ParamGroup> ParamGroups => _groups;

    /// <summary>The hyper-parameters a group gets for the options it does not set.</summary>
    public IReadOnlyDictionary<string, double> Defaults => _defaults;

    /// <summary>Adds a group, filling its missing options from <see cref="Defaults"/> (add_param_group).</summary>
    public void AddParamGroup(ParamGroup group)
    {
        ArgumentNullException.ThrowIfNull(group);
        if (group.Parameters.Count == 0) throw new ArgumentException($"{Name}: parameter group {_groups.Count} has no parameters.", nameof(group));
        var inGroup = new HashSet<Tensor>(ReferenceEqualityComparer.Instance);
        foreach (var p in group.Parameters)
        {
            if (p.DType != DType.Float32) throw new ArgumentException($"{Name}: parameter '{p.Name}' is {p.DType}; only float32 tensors can be optimized.", nameof(group));
            if (!p.IsLeaf) throw new ArgumentException($"{Name}: parameter '{p.Name}' of shape {ShapeUtil.Format(p.Shape)} is not a leaf tensor and cannot be optimized.", nameof(group));
            if (!inGroup.Add(p)) throw new ArgumentException($"{Name}: parameter '{p.Name}' appears twice in parameter group {_groups.Count}.", nameof(group));
            if (_allParams.Contains(p)) throw new ArgumentException($"{Name}: parameter '{p.Name}' appears in more than one parameter group.", nameof(group));
        }
        foreach (var (option, value) in _defaults) group.SetDefault(option, value);
        ValidateGroup(group, _groups.Count);
        _groups.Add(group);
        _allParams.UnionWith(group.Parameters);
    }

    /// <summary>Checks a group's hyper-parameters; throws ArgumentException naming the optimizer and option.</summary>
    protected virtual void ValidateGroup(ParamGroup group, int index)
    {
        Require(group.Lr >= 0, index, "lr", group.Lr, "must be ≥ 0");
        Require(group.WeightDecay >= 0, index, "weight_decay", group.WeightDecay, "must be ≥ 0");
    }

    protected void Require(bool ok, int groupIndex, string option, double value, string rule)
    {
        if (!ok) throw new ArgumentException($"{Name}: invalid {option} {value.ToString("R", CultureInfo.InvariantCulture)} in parameter group {groupIndex} ({rule}).");
    }

    /// <summary>Drops every gradient (PyTorch's zero_grad(set_to_none=True)), releasing its memory.</summary>
    public void ZeroGrad()
    {
        foreach (var group in _groups)
            foreach (var p in group.Parameters)
            {
                p.Grad?.Dispose();
                p.Grad = null;
            }
    }

    /// <summary>Updates every parameter that has a gradient; those without one are skipped.</summary>
    public abstract void Step();

    /// <summary>What the optimizer keeps per parameter.</summary>
    protected sealed class ParamState
    {
        /// <summary>Number of updates applied (AdamW's bias corrections use it).</summary>
        public long Step;

        /// <summary>Named buffers shaped and laid out like the parameter.</summary>
        public readonly Dictionary<string, Tensor> Buffers = new(StringComparer.Ordinal);
    }

    /// <summary>The names of the per-parameter buffers this optimizer keeps (as in PyTorch's state dict).</summary>
    protected abstract IReadOnlyCollection<string> BufferNames { get; }

    /// <summary>The parameter's state, created empty on first use.</summary>
    protected ParamState StateOf(Tensor parameter)
    {
        if (!_state.TryGetValue(parameter, out var s)) _state[parameter] = s = new ParamState();
        return s;
    }

    /// <summary>The parameter's state if it has been updated before.</summary>
    protected bool TryGetState(Tensor parameter, out ParamState state)
    {
        if (_state.TryGetValue(parameter, out var s)) { state = s; return true; }
        state = null!;
        return false;
    }

    /// <summary>A zero-filled state buffer laid out like <paramref name="parameter"/>, owned by the optimizer.</summary>
    protected static Tensor NewBuffer(Tensor parameter) => Torch.ZerosLike(parameter).DetachFromScopes();

    /// <summary>
    /// The gradient of <paramref name="parameter"/> viewed (or, if its layout differs, copied) so that
    /// it lines up element for element with the parameter's storage. Dispose the result.
    /// </summary>
    protected Tensor GradInParamLayout(Tensor parameter, Tensor grad)
    {
        if (!parameter.IsDense)
            throw new ArgumentException($"{Name}: parameter '{parameter.Name}' of shape {ShapeUtil.Format(parameter.Shape)} and strides {ShapeUtil.Format(parameter.Strides)} is not dense; parameters must own their storage.");
        if (!grad.Shape.AsSpan().SequenceEqual(parameter.Shape))
            throw new ArgumentException($"{Name}: the gradient of parameter '{parameter.Name}' has shape {ShapeUtil.Format(grad.Shape)}, the parameter {ShapeUtil.Format(parameter.Shape)}.");
        if (grad.DType != DType.Float32)
            throw new ArgumentException($"{Name}: the gradient of parameter '{parameter.Name}' is {grad.DType}, expected Float32.");
        if (SameDenseLayout(parameter, grad)) return grad.Detach();
        var aligned = Torch.EmptyLike(parameter);
        aligned.CopyFrom(grad);
        return aligned;
    }

    /// <summary>True when both tensors are dense and put every element at the same place in their storage.</summary>
    internal static bool SameDenseLayout(Tensor a, Tensor b)
    {
        if (!a.IsDense || !b.IsDense || !a.Shape.AsSpan().SequenceEqual(b.Shape)) return false;
        for (int i = 0; i < a.Rank; i++)
            if (a.Shape[i] != 1 && a.Strides[i] != b.Strides[i]) return false;
        return true;
    }

    /// <summary>
    /// The state as safetensors-ready tensors and metadata (see <see cref="OptimizerState"/>). The
    /// tensors are the optimizer's live buffers.
    /// </summary>
    public OptimizerState StateDict()
    {
        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        var meta = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["optimizer"] = Name,
            ["groups"] = _groups.Count.ToString(CultureInfo.InvariantCulture),
        };
        int index = 0;
        for (int g = 0; g < _groups.Count; g++)
        {
            var group = _groups[g];
            meta[$"groups.{g}.params"] = string.Join(",", Enumerable.Range(index, group.Parameters.Count));
            foreach (var (option, value) in group.Options)
                meta[$"groups.{g}.{option}"] = value.ToString("R", CultureInfo.InvariantCulture);
            foreach (var p in group.Parameters)
            {
                if (_state.TryGetValue(p, out var s))
                {
                    if (s.Step > 0) meta[$"state.{index}.step"] = s.Step.ToString(CultureInfo.InvariantCulture);
                    foreach (var (name, buffer) in s.Buffers) tensors[$"state.{index}.{name}"] = buffer;
                }
                index++;
            }
        }
        return new OptimizerState(tensors, meta);
    }

    /// <summary>
    /// Restores state saved by <see cref="StateDict"/> from an optimizer of the same type over
    /// parameters of the same shapes in the same groups. Hyper-parameters are taken from the saved
    /// groups; buffers are copied (the caller keeps ownership of <paramref name="state"/>). All is
    /// checked before anything changes.
    /// </summary>
    public void LoadStateDict(OptimizerState state, string? source = null)
    {
        ArgumentNullException.ThrowIfNull(state);
        string where = source is null ? "" : $" from {source}";
        Exception Fail(string problem) => new ArgumentException($"{Name}: cannot load state dict{where}: {problem}.");

        var meta = state.Metadata;
        if (!meta.TryGetValue("optimizer", out var type)) throw Fail("the metadata has no 'optimizer' entry");
        if (type != Name) throw Fail($"it was saved by {type}");
        if (!meta.TryGetValue("groups", out var groupCountText) || !int.TryParse(groupCountText, CultureInfo.InvariantCulture, out int groupCount))
            throw Fail("the metadata has no valid 'groups' count");
        if (groupCount != _groups.Count) throw Fail($"it has {groupCount} parameter groups, this optimizer {_groups.Count}");

        var parameters = _groups.SelectMany(g => g.Parameters).ToArray();
        var options = new List<Dictionary<string, double>>();
        for (int g = 0; g < _groups.Count; g++)
        {
            int saved = meta.TryGetValue($"groups.{g}.params", out var list) ? (list.Length == 0 ? 0 : list.Split(',').Length) : -1;
            if (saved != _groups[g].Parameters.Count)
                throw Fail($"parameter group {g} has {(saved < 0 ? "no" : saved.ToString(CultureInfo.InvariantCulture))} saved parameters, this optimizer's has {_groups[g].Parameters.Count}");
            var prefix = $"groups.{g}.";
            var groupOptions = new Dictionary<string, double>(StringComparer.Ordinal);
            foreach (var (key, value) in meta)
            {
                if (!key.StartsWith(prefix, StringComparison.Ordinal) || key == prefix + "params") continue;
                if (!double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var v)) throw Fail($"option '{key}' = '{value}' is not a number");
                groupOptions[key[prefix.Length..]] = v;
            }
            options.Add(groupOptions);
        }

        var steps = new Dictionary<int, long>();
        foreach (var (key, value) in meta)
        {
            if (!key.StartsWith("state.", StringComparison.Ordinal)) continue;
            int index = ParseStateIndex(key, out var field, parameters.Length, Fail);
            if (field != "step" || !long.TryParse(value, CultureInfo.InvariantCulture, out long step) || step < 0) throw Fail($"unexpected metadata entry '{key}' = '{value}'");
            steps[index] = step;
        }
        var buffers = new List<(int Index, string Name, Tensor Value)>();
        foreach (var (key, value) in state.Tensors)
        {
            if (!key.StartsWith("state.", StringComparison.Ordinal)) throw Fail($"unexpected tensor '{key}'");
            int index = ParseStateIndex(key, out var field, parameters.Length, Fail);
            var p = parameters[index];
            if (!BufferNames.Contains(field)) throw Fail($"'{key}': {Name} keeps no buffer named '{field}' (it keeps {string.Join(", ", BufferNames)})");
            if (value.DType != DType.Float32 || !value.Shape.AsSpan().SequenceEqual(p.Shape))
                throw Fail($"'{key}' is {value.DType} {ShapeUtil.Format(value.Shape)}, parameter {index} ('{p.Name}') is Float32 {ShapeUtil.Format(p.Shape)}");
            buffers.Add((index, field, value));
        }

        for (int g = 0; g < _groups.Count; g++)
        {
            var probe = new ParamGroup(_groups[g].Parameters);
            foreach (var (option, value) in _groups[g].Options.Concat(options[g])) probe[option] = value;
            try { ValidateGroup(probe, g); }
            catch (ArgumentException e) { throw Fail(e.Message); }
        }

        for (int g = 0; g < _groups.Count; g++)
            foreach (var (option, value) in options[g]) _groups[g][option] = value;
        ClearState();
        foreach (var (index, step) in steps) StateOf(parameters[index]).Step = step;
        foreach (var (index, name, value) in buffers)
        {
            var buffer = NewBuffer(parameters[index]);
            buffer.CopyFrom(value);
            StateOf(parameters[index]).Buffers[name] = buffer;
        }
    }

    private static int ParseStateIndex(string key, out string field, int parameterCount, Func<string, Exception> fail)
    {
        var parts = key.Split('.', 3);
        if (parts.Length != 3 || !int.TryParse(parts[1], CultureInfo.InvariantCulture, out int index) || index < 0 || index >= parameterCount)
        {
            throw fail($"'{key}' does not name one of the {parameterCount} parameters as state.INDEX.NAME");
        }
        field = parts[2];
        return index;
    }

    private void ClearState()
    {
        foreach (var s in _state.Values)
            foreach (var b in s.Buffers.Values) b.Dispose();
        _state.Clear();
    }

    /// <summary>Releases the state buffers (not the parameters or their gradients).</summary>
    public void Dispose()
    {
        ClearState();
        GC.SuppressFinalize(this);
    }
}
