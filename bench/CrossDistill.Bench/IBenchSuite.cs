namespace CrossDistill.Bench;

/// <summary>
/// A named group of measurements. Suites are found by reflection, so a new one (conv, ops,
/// train-step) is a single file: a public class with a parameterless constructor implementing this.
/// </summary>
public interface IBenchSuite
{
    /// <summary>The name used on the command line and in the "suite" field.</summary>
    string Name { get; }

    string Description { get; }

    /// <summary>The names of the cases <see cref="Run"/> measures, in order.</summary>
    IReadOnlyList<string> CaseNames { get; }

    /// <summary>Runs the cases <see cref="BenchOptions.Includes"/> selects, yielding each result as soon as it is measured.</summary>
    IEnumerable<BenchResult> Run(BenchOptions options);
}
