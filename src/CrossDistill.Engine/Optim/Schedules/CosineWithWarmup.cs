namespace CrossDistill.Engine.Optim.Schedules;

/// <summary>
/// Linear warm-up from <c>warmupStartFactor</c> × base rate, then a half cosine down to the floor
/// <c>minLr</c>, which holds from <c>totalSteps</c> on; timm's CosineLRScheduler with one cycle.
/// With <c>warmupPrefix</c> (the default) the cosine spans steps [warmupSteps, totalSteps], so the
/// rate reaches the base rate exactly when warm-up ends (timm: t_initial = totalSteps − warmupSteps,
/// warmup_prefix=True). Without it the cosine spans [0, totalSteps] and warm-up overrides its first
/// steps (timm's default: t_initial = totalSteps, warmup_prefix=False). timm's warmup_lr_init is
/// warmupStartFactor × base rate here, so groups with different rates warm up in proportion.
/// </summary>
public sealed class CosineWithWarmup : LrScheduler
{
    public CosineWithWarmup(Optimizer optimizer, int warmupSteps, int totalSteps, double minLr = 0, double warmupStartFactor = 0, bool warmupPrefix = true)
        : base(optimizer)
    {
        if (warmupSteps < 0) throw new ArgumentOutOfRangeException(nameof(warmupSteps), $"CosineWithWarmup: warmupSteps {warmupSteps} is negative.");
        int cosineSteps = warmupPrefix ? totalSteps - warmupSteps : totalSteps;
        if (cosineSteps <= 0)
            throw new ArgumentOutOfRangeException(nameof(totalSteps), $"CosineWithWarmup: totalSteps {totalSteps} leaves no cosine phase after {warmupSteps} warm-up steps.");
        if (!(minLr >= 0)) throw new ArgumentOutOfRangeException(nameof(minLr), $"CosineWithWarmup: minLr {minLr} is negative.");
        if (!(warmupStartFactor >= 0)) throw new ArgumentOutOfRangeException(nameof(warmupStartFactor), $"CosineWithWarmup: warmupStartFactor {warmupStartFactor} is negative.");
        WarmupSteps = warmupSteps;
        TotalSteps = totalSteps;
        MinLr = minLr;
        WarmupStartFactor = warmupStartFactor;
        WarmupPrefix = warmupPrefix;
        Start();
    }

    public int WarmupSteps { get; }
    public int TotalSteps { get; }
    public double MinLr { get; }
    public double WarmupStartFactor { get; }
    public bool WarmupPrefix { get; }

    public override double LrAt(double baseLr, int step)
    {
        if (step < WarmupSteps)
        {
            double init = WarmupStartFactor * baseLr;
            return init + step * ((baseLr - init) / WarmupSteps);
        }
        int t = WarmupPrefix ? step - WarmupSteps : step;
        int length = WarmupPrefix ? TotalSteps - WarmupSteps : TotalSteps;
        if (t >= length) return MinLr;
        return MinLr + 0.5 * (baseLr - MinLr) * (1 + Math.Cos(Math.PI * t / length));
    }
}
