using System.Reflection;
using CrossDistill.Engine.Kernels;

namespace CrossDistill.Bench;

/// <summary>Finds the suites and runs one, printing one JSON object per line.</summary>
public static class BenchRunner
{
    public static IReadOnlyList<IBenchSuite> Suites { get; } = typeof(BenchRunner).Assembly.GetTypes()
        .Where(t => t is { IsClass: true, IsAbstract: false } && typeof(IBenchSuite).IsAssignableFrom(t) && t.GetConstructor(Type.EmptyTypes) is not null)
        .Select(t => (IBenchSuite)Activator.CreateInstance(t)!)
        .OrderBy(s => s.Name, StringComparer.Ordinal)
        .ToArray();

    public static IBenchSuite? Find(string name) => Suites.FirstOrDefault(s => string.Equals(s.Name, name, StringComparison.OrdinalIgnoreCase));

    /// <summary>Runs the named suite with the engine set to <see cref="BenchOptions.Threads"/> threads; returns false for an unknown suite.</summary>
    public static bool Run(string suiteName, BenchOptions options, TextWriter output)
    {
        var suite = Find(suiteName);
        if (suite is null) return false;
        var unknown = options.Cases?.Where(c => !suite.CaseNames.Contains(c)).ToArray() ?? Array.Empty<string>();
        if (unknown.Length > 0)
            throw new ArgumentException($"bench: suite {suite.Name} has no case {string.Join(", ", unknown)}; its cases are {string.Join(", ", suite.CaseNames)}.", nameof(options));
        if (options.Threads < 1) throw new ArgumentException($"bench: --threads must be at least 1, got {options.Threads}.", nameof(options));
        int previous = Workers.Threads;
        Workers.Threads = options.Threads;
        try
        {
            foreach (var result in suite.Run(options))
            {
                output.WriteLine(result.ToJson());
                output.Flush();
            }
        }
        finally
        {
            Workers.Threads = previous;
        }
        return true;
    }
}
