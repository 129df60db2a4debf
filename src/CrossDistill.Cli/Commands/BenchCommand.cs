using System.CommandLine;
using CrossDistill.Bench;

namespace CrossDistill.Cli.Commands;

/// <summary>`crossdistill bench SUITE [--threads N] [--quick]`: JSON-lines measurements (bench/compare.py sets them beside PyTorch).</summary>
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
        var command = new Command("bench", "Measure engine kernels; prints one JSON object per line.");
        command.Arguments.Add(suite);
        command.Options.Add(threads);
        command.Options.Add(quick);
        command.SetAction(parse =>
        {
            string name = parse.GetValue(suite)!;
            int threadCount = parse.GetValue(threads);
            if (threadCount < 1) throw new CliException($"--threads must be at least 1, got {threadCount}.");
            var options = new BenchOptions(threadCount, parse.GetValue(quick));
            if (!BenchRunner.Run(name, options, Console.Out))
                throw new CliException($"unknown bench suite '{name}'; the suites are: {string.Join(", ", BenchRunner.Suites.Select(s => $"{s.Name} ({s.Description})"))}.");
            return 0;
        });
        return command;
    }
}
