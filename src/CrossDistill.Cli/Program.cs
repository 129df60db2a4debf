using System.CommandLine;
using CrossDistill.Cli.Commands;

namespace CrossDistill.Cli;

public static class Program
{
    public static int Main(string[] args) => Run(args, Console.Out, Console.Error);

    /// <summary>The whole command line with its output and errors sent to the given writers (what Main runs; tests call it directly).</summary>
    public static int Run(string[] args, TextWriter output, TextWriter error)
    {
        var root = CreateRoot();
        try
        {
            // Without this, System.CommandLine's own handler would catch CliException and print a stack trace.
            return root.Parse(args).Invoke(new InvocationConfiguration { Output = output, Error = error, EnableDefaultExceptionHandler = false });
        }
        catch (CliException e)
        {
            error.WriteLine($"error: {e.Message}");
            return e.ExitCode;
        }
    }

    public static RootCommand CreateRoot()
    {
        var root = new RootCommand("CrossDistill: cross-architecture knowledge distillation for vision models, in .NET.");
        root.Subcommands.Add(InfoCommand.Create());
        root.Subcommands.Add(DataCommand.Create());
        root.Subcommands.Add(ModelsCommand.Create());
        root.Subcommands.Add(PredictCommand.Create());
        root.Subcommands.Add(TrainCommand.Create());
        root.Subcommands.Add(DistillCommand.Create());
        root.Subcommands.Add(EvalCommand.Create());
        root.Subcommands.Add(MethodsCommand.Create());
        root.Subcommands.Add(ConfigCommand.Create());
        root.Subcommands.Add(QuickstartCommand.Create());
        root.Subcommands.Add(SweepCommand.Create());
        root.Subcommands.Add(BenchCommand.Create());
        return root;
    }
}

/// <summary>A failure the user can act on: printed without a stack trace, with a non-zero exit code.</summary>
public sealed class CliException : Exception
{
    public CliException(string message, int exitCode = 2) : base(message) => ExitCode = exitCode;

    public int ExitCode { get; }
}
