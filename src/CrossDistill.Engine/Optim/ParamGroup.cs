using System.Globalization;

namespace CrossDistill.Engine.Optim;

/// <summary>
/// A list of parameters that share hyper-parameters, as an entry of PyTorch's
/// optimizer.param_groups. Options use PyTorch's names ("lr", "weight_decay", "momentum",
/// "beta1", "beta2", "eps", …; flags such as "nesterov" are 0 or 1). Options a group leaves out
/// are filled from the optimizer's defaults when the group is added to it.
/// </summary>
public sealed class ParamGroup
{
    private readonly Dictionary<string, double> _options = new(StringComparer.Ordinal);

    public ParamGroup(IEnumerable<Tensor> parameters, double? lr = null, double? weightDecay = null)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        Parameters = parameters.ToArray();
        for (int i = 0; i < Parameters.Count; i++)
            if (Parameters[i] is null) throw new ArgumentException($"ParamGroup: parameter {i} is null.", nameof(parameters));
        if (lr is double l) Lr = l;
        if (weightDecay is double wd) WeightDecay = wd;
    }

    public IReadOnlyList<Tensor> Parameters { get; }

    public double Lr
    {
        get => this["lr"];
        set => this["lr"] = value;
    }

    public double WeightDecay
    {
        get => this["weight_decay"];
        set => this["weight_decay"] = value;
    }

    /// <summary>A hyper-parameter by its PyTorch name.</summary>
    public double this[string option]
    {
        get => _options.TryGetValue(option, out var v) ? v
            : throw new KeyNotFoundException($"Parameter group has no option '{option}' (it has: {string.Join(", ", _options.Keys)}).");
        set
        {
            if (string.IsNullOrEmpty(option) || option.Contains('.') || option == "params")
                throw new ArgumentException($"ParamGroup: invalid option name '{option}'.", nameof(option));
            _options[option] = value;
        }
    }

    public bool Has(string option) => _options.ContainsKey(option);

    public bool TryGet(string option, out double value) => _options.TryGetValue(option, out value);

    public IReadOnlyDictionary<string, double> Options => _options;

    /// <summary>Sets <paramref name="option"/> unless the group already has it (Python's dict.setdefault).</summary>
    public void SetDefault(string option, double value)
    {
        if (!_options.ContainsKey(option)) this[option] = value;
    }

    public override string ToString() =>
        $"ParamGroup({Parameters.Count} params; {string.Join(", ", _options.Select(kv => kv.Key + "=" + kv.Value.ToString("R", CultureInfo.InvariantCulture)))})";
}
