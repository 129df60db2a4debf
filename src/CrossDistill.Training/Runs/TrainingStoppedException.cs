namespace CrossDistill.Training.Runs;

/// <summary>A run that cannot be started or resumed as asked (an existing run directory, a bad checkpoint, a missing teacher file): the user can act on it.</summary>
public sealed class RunException : Exception
{
    public RunException(string message, Exception? inner = null) : base(message, inner) { }
}

/// <summary>
/// Training stopped because a loss term or the gradient norm became NaN or infinite. Nothing was
/// saved after the last good checkpoint, which <see cref="LastCheckpoint"/> names.
/// </summary>
public sealed class NonFiniteLossException : Exception
{
    public NonFiniteLossException(string term, float value, int epoch, long step, IReadOnlyDictionary<string, float> values, string? lastCheckpoint)
        : base(Describe(term, value, epoch, step, values, lastCheckpoint))
    {
        Term = term;
        Epoch = epoch;
        Step = step;
        LastCheckpoint = lastCheckpoint;
    }

    /// <summary>The first non-finite term: a loss name (loss_kl, loss_total) or "grad_norm".</summary>
    public string Term { get; }
    public int Epoch { get; }
    public long Step { get; }
    public string? LastCheckpoint { get; }

    private static string Describe(string term, float value, int epoch, long step, IReadOnlyDictionary<string, float> values, string? lastCheckpoint)
    {
        string all = string.Join(", ", values.Select(kv => $"{kv.Key} = {Format(kv.Value)}"));
        string where = lastCheckpoint is null
            ? "no checkpoint had been written yet"
            : $"the last good checkpoint is {lastCheckpoint} (resume from it with --resume, e.g. after lowering the learning rate)";
        return $"training stopped at epoch {epoch + 1}, step {step + 1}: {term} is {Format(value)} ({all}); nothing was saved after the failure, {where}.";
    }

    private static string Format(float v) => float.IsNaN(v) ? "NaN" : float.IsPositiveInfinity(v) ? "+Inf" : float.IsNegativeInfinity(v) ? "-Inf" : v.ToString("G6", System.Globalization.CultureInfo.InvariantCulture);
}
