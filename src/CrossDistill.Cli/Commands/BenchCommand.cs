using System.CommandLine;
using CrossDistill.Bench;

namespace CrossDistill.Cli.Commands;

/// <summary>`crossdistill bench SUITE [--threads N] [--quick] [--case NAME]... [--memory-sites] [--list]`: JSON-lines measurements (bench/compare.py sets them beside PyTorch).</summary>
public static class BenchCommand
{
    public static Command Create()
    {
        var suite = new Argument<string>("suite")
        {
            Description = $"The suite to run: {string.Join(", ", BenchRunner.Suites.Select(s => s.Name))}.",
        };
        var threads = new Option<int>("--threads")
        {
            Description = "Kernel threads, the caller's included.",
            DefaultValueFactory = _ => 2,
        };
        var quick = new Option<bool>("--quick") { Description = "Fewer, shorter samples: a smoke run." };
        var cases = new Option<string[]>("--case") { Description = "Run only this case (repeatable)." };
        var memorySites = new Option<bool>("--memory-sites")
        {
            Description = "train-step: print, on stderr, the live tensor memory by allocating op at the peak (slows the steps down).",
        };
        var list = new Option<bool>("--list") { Description = "Print the suite's case names, one per line, and exit." };
        var command = new Command("bench", "Measure engine kernels; prints one JSON object per line.");
        command.Arguments.Add(suite);
        command.Options.Add(threads);
        command.Options.Add(quick);
        command.Options.Add(cases);
        command.Options.Add(memorySites);
        command.Options.Add(list);
        command.SetAction(parse =>
        {
            string name = parse.GetValue(suite)!;
            var found = BenchRunner.Find(name);
            if (found is null)
                return Fail($"unknown bench suite '{name}'; the suites are: {string.Join(", ", BenchRunner.Suites.Select(s => $"{s.Name} ({s.Description})"))}.");
            if (parse.GetValue(list))
            {
                foreach (var caseName in found.CaseNames) Console.WriteLine(caseName);
                return 0;
            }
            int threadCount = parse.GetValue(threads);
            if (threadCount < 1) return Fail($"--threads must be at least 1, got {threadCount}.");
            var selected = parse.GetValue(cases) ?? Array.Empty<string>();
            var unknown = selected.Where(c => !found.CaseNames.Contains(c)).ToArray();
            if (unknown.Length > 0)
                return Fail($"suite {found.Name} has no case {string.Join(", ", unknown)}; its cases are: {string.Join(", ", found.CaseNames)}.");
            BenchRunner.Run(found.Name, new BenchOptions(threadCount, parse.GetValue(quick), selected, parse.GetValue(memorySites)), Console.Out);
            return 0;
        });
        return command;
    }

    // Reported here rather than thrown: System.CommandLine's own handler would print a stack trace.
    private static int Fail(string message)
    {
        Console.Error.WriteLine($"error: {message}");
        return 2;
    }
}
