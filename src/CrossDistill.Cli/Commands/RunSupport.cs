using System.CommandLine;
using CrossDistill.Cli.Reporting;
using CrossDistill.Training.Config;
using CrossDistill.Training.Runs;
using Spectre.Console;

namespace CrossDistill.Cli.Commands;

/// <summary>What `train` and `distill` share: options, config loading, the progress display, Ctrl-C and error mapping.</summary>
internal static class RunSupport
{
    /// <summary>Exit code of a run stopped by Ctrl-C after saving (128 + SIGINT, as shells report it).</summary>
    public const int InterruptedExitCode = 130;

    /// <summary>Exit code of a run stopped by the NaN/Inf guard.</summary>
    public const int DivergedExitCode = 3;

    public sealed class Options
    {
        public readonly Option<string?> Config = new("--config", "-c") { Description = "The run's YAML config (see configs/ and `crossdistill config defaults`)." };
        public readonly Option<string[]> Set = new("--set") { Description = "Override a config key: --set key.path=value (repeatable).", Arity = ArgumentArity.ZeroOrMore };
        public readonly Option<string?> Resume = new("--resume") { Description = "Continue the run in this directory from its newest checkpoint." };

        public void AddTo(Command command)
        {
            command.Options.Add(Config);
            command.Options.Add(Set);
            command.Options.Add(Resume);
        }
    }

    public static int Execute(ParseResult result, Options options, RunKind kind)
    {
        var output = result.InvocationConfiguration.Output;
        string? configPath = result.GetValue(options.Config);
        string? resume = result.GetValue(options.Resume);
        var overrides = result.GetValue(options.Set) ?? Array.Empty<string>();
        if (resume is not null && (configPath is not null || overrides.Length > 0))
            throw new CliException("--resume continues a run with the config it was started with; leave out --config and --set.");
        if (resume is null && configPath is null)
            throw new CliException("give --config FILE to start a run, or --resume RUN_DIR to continue one.");

        using var cancellation = new CancellationTokenSource();
        void OnCancel(object? sender, ConsoleCancelEventArgs e)
        {
            if (cancellation.IsCancellationRequested) return; // a second Ctrl-C ends the process at once
            e.Cancel = true;
            cancellation.Cancel();
            Console.Error.WriteLine("stopping after this step: saving a checkpoint (Ctrl-C again to abort without saving)");
        }
        Console.CancelKeyPress += OnCancel;
        try
        {
            RunSummary Run(ITrainingObserver observer)
            {
                if (resume is not null) return Trainer.Resume(resume, observer, cancellation.Token);
                var (config, _) = ConfigLoader.Load<RunConfig>(configPath!, overrides);
                return Trainer.Start(config, kind, observer, cancellation.Token);
            }
            RunSummary summary;
            if (IsInteractive(output))
            {
                var live = new LiveReporter(AnsiConsole.Console);
                summary = live.Run(() => Run(live));
            }
            else
            {
                summary = Run(new PlainReporter(output));
            }
            return summary.Status == RunStatus.Completed ? 0 : InterruptedExitCode;
        }
        catch (ConfigException e)
        {
            throw new CliException(e.Message);
        }
        catch (RunException e)
        {
            throw new CliException(e.Message);
        }
        catch (NonFiniteLossException e)
        {
            throw new CliException(e.Message, DivergedExitCode);
        }
        finally
        {
            Console.CancelKeyPress -= OnCancel;
        }
    }

    /// <summary>Progress as plain lines: the quickstart runs several trainings in a row and keeps their logs on screen.</summary>
    public static ITrainingObserver CreateObserver(TextWriter output) => new PlainReporter(output);

    /// <summary>A live display only on a real terminal: not when output is redirected, captured, or under CI.</summary>
    public static bool IsInteractive(TextWriter output) =>
        ReferenceEquals(output, Console.Out) && !Console.IsOutputRedirected && string.IsNullOrEmpty(Environment.GetEnvironmentVariable("CI"));
}
