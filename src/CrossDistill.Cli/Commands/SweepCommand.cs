using System.CommandLine;
using CrossDistill.Training.Config;
using CrossDistill.Training.Runs;
using CrossDistill.Training.Sweeps;

namespace CrossDistill.Cli.Commands;

/// <summary>`crossdistill sweep`: runs a grid of methods × teacher–student pairs × seeds and tabulates mean ± std.</summary>
public static class SweepCommand
{
    public static Command Create()
    {
        var config = new Option<string>("--config", "-c") { Description = "The sweep's YAML file (see configs/sweeps/).", Required = true };
        var set = new Option<string[]>("--set") { Description = "Override a key of the sweep file: --set key.path=value (repeatable).", Arity = ArgumentArity.ZeroOrMore };
        var command = new Command("sweep", "Run (or continue) a grid of runs and write results.md and results.csv with mean ± std over seeds.") { config, set };
        command.SetAction(result =>
        {
            var output = result.InvocationConfiguration.Output;
            string path = result.GetValue(config)!;
            try
            {
                var (sweepConfig, _) = ConfigLoader.Load<SweepConfig>(path, result.GetValue(set) ?? Array.Empty<string>());
                var sweep = new Sweep(sweepConfig, Path.GetDirectoryName(Path.GetFullPath(path))!, run =>
                {
                    output.WriteLine($"== {run}");
                    return RunSupport.CreateObserver(output);
                });
                var results = sweep.Run();
                output.WriteLine($"{results.Count} runs; tables: {Path.Combine(sweep.Root, "results.md")} and results.csv");
                return 0;
            }
            catch (ConfigException e) { throw new CliException(e.Message); }
            catch (RunException e) { throw new CliException(e.Message); }
        });
        return command;
    }
}
