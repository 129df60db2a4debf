namespace CrossDistill.Engine.Optim.Schedules;

/// <summary>
/// Multiplies the rate by <c>gamma</c> at each milestone step, as torch.optim.lr_scheduler.MultiStepLR
/// (a milestone listed twice applies gamma twice): rate = base × gamma^(milestones ≤ step).
/// </summary>
public sealed class MultiStepLr : LrScheduler
{
    private readonly int[] _milestones;

    public MultiStepLr(Optimizer optimizer, IEnumerable<int> milestones, double gamma = 0.1)
        : base(optimizer)
    {
        ArgumentNullException.ThrowIfNull(milestones);
        _milestones = milestones.Order().ToArray();
        if (_milestones.Length > 0 && _milestones[0] < 0)
            throw new ArgumentOutOfRangeException(nameof(milestones), $"MultiStepLr: milestone {_milestones[0]} is negative.");
        Gamma = gamma;
        Start();
    }

    public IReadOnlyList<int> Milestones => _milestones;
    public double Gamma { get; }

    public override double LrAt(double baseLr, int step)
    {
        int passed = 0;
        while (passed < _milestones.Length && _milestones[passed] <= step) passed++;
        return baseLr * Math.Pow(Gamma, passed);
    }
}
