namespace CrossDistill.Engine.Optim.Schedules;

/// <summary>Rate = base × factor(step), as torch.optim.lr_scheduler.LambdaLR with one function for every group.</summary>
public sealed class LambdaLr : LrScheduler
{
    private readonly Func<int, double> _factor;

    public LambdaLr(Optimizer optimizer, Func<int, double> factor)
        : base(optimizer)
    {
        _factor = factor ?? throw new ArgumentNullException(nameof(factor));
        Start();
    }

    public override double LrAt(double baseLr, int step) => baseLr * _factor(step);
}
