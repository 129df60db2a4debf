using System.Globalization;

namespace CrossDistill.Engine.Optim.Schedules;

/// <summary>
/// Sets the learning rate of every parameter group of an optimizer from a closed-form function of
/// a step counter, as torch.optim.lr_scheduler does: construction applies the rate for step 0;
/// each <see cref="Step()"/> advances the counter by one and applies the next rate. Whether a
/// step is an epoch or an iteration is up to the caller. Each group's base rate is its
/// "initial_lr" option, set from its "lr" when the first scheduler attaches (PyTorch's setdefault).
/// </summary>
public abstract class LrScheduler
{
    private readonly double[] _baseLrs;
    private double[] _lastLr;
    private bool _started;

    protected LrScheduler(Optimizer optimizer)
    {
        Optimizer = optimizer ?? throw new ArgumentNullException(nameof(optimizer));
        foreach (var group in optimizer.ParamGroups) group.SetDefault("initial_lr", group.Lr);
        _baseLrs = optimizer.ParamGroups.Select(g => g["initial_lr"]).ToArray();
        _lastLr = (double[])_baseLrs.Clone();
    }

    public Optimizer Optimizer { get; }

    public IReadOnlyList<double> BaseLrs => _baseLrs;

    /// <summary>The step counter (PyTorch's last_epoch).</summary>
    public int LastStep { get; private set; }

    /// <summary>The rates last applied, one per group (get_last_lr()).</summary>
    public IReadOnlyList<double> LastLr => _lastLr;

    /// <summary>The rate of a group with base rate <paramref name="baseLr"/> at <paramref name="step"/>.</summary>
    public abstract double LrAt(double baseLr, int step);

    /// <summary>Applies the rate for step 0; derived constructors call it last, once their fields are set.</summary>
    protected void Start()
    {
        _started = true;
        Apply(0);
    }

    /// <summary>Advances one step and sets the groups' rates.</summary>
    public void Step() => Step(LastStep + 1);

    /// <summary>Jumps to <paramref name="step"/> (for resuming) and sets the groups' rates.</summary>
    public void Step(int step)
    {
        if (!_started) throw new InvalidOperationException($"{GetType().Name} was not started: its constructor must call Start().");
        if (step < 0) throw new ArgumentOutOfRangeException(nameof(step), $"{GetType().Name}: step {step} is negative.");
        Apply(step);
    }

    private void Apply(int step)
    {
        if (Optimizer.ParamGroups.Count != _baseLrs.Length)
            throw new InvalidOperationException($"{GetType().Name}: the optimizer has {Optimizer.ParamGroups.Count} parameter groups, the scheduler was made for {_baseLrs.Length}.");
        LastStep = step;
        var lrs = new double[_baseLrs.Length];
        for (int g = 0; g < lrs.Length; g++)
        {
            lrs[g] = LrAt(_baseLrs[g], step);
            Optimizer.ParamGroups[g].Lr = lrs[g];
        }
        _lastLr = lrs;
    }

    /// <summary>The counter and base rates, as metadata strings (for a safetensors checkpoint).</summary>
    public Dictionary<string, string> StateDict() => new(StringComparer.Ordinal)
    {
        ["scheduler"] = GetType().Name,
        ["last_step"] = LastStep.ToString(CultureInfo.InvariantCulture),
        ["base_lrs"] = string.Join(",", _baseLrs.Select(v => v.ToString("R", CultureInfo.InvariantCulture))),
    };

    /// <summary>Restores the counter and base rates and re-applies the rate for that step.</summary>
    public void LoadStateDict(IReadOnlyDictionary<string, string> state)
    {
        ArgumentNullException.ThrowIfNull(state);
        string name = GetType().Name;
        if (!state.TryGetValue("scheduler", out var type) || type != name)
            throw new ArgumentException($"{name}: cannot load a state dict saved by {type ?? "an unknown scheduler"}.");
        if (!state.TryGetValue("last_step", out var stepText) || !int.TryParse(stepText, CultureInfo.InvariantCulture, out int step) || step < 0)
            throw new ArgumentException($"{name}: the state dict has no valid 'last_step'.");
        var baseLrs = state.TryGetValue("base_lrs", out var list) && list.Length > 0 ? list.Split(',') : Array.Empty<string>();
        if (baseLrs.Length != _baseLrs.Length)
            throw new ArgumentException($"{name}: the state dict has {baseLrs.Length} base rates, the optimizer {_baseLrs.Length} parameter groups.");
        var parsed = new double[baseLrs.Length];
        for (int i = 0; i < parsed.Length; i++)
            if (!double.TryParse(baseLrs[i], NumberStyles.Float, CultureInfo.InvariantCulture, out parsed[i]))
                throw new ArgumentException($"{name}: base rate '{baseLrs[i]}' is not a number.");
        parsed.CopyTo(_baseLrs, 0);
        for (int g = 0; g < parsed.Length; g++) Optimizer.ParamGroups[g]["initial_lr"] = parsed[g];
        _started = true;
        Apply(step);
    }
}
