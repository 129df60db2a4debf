using System.CommandLine;
using CrossDistill.Cli.Commands;

namespace CrossDistill.Cli;

public static class Program
{
    public static int Main(string[] args)
    {
        var root = new RootCommand("CrossDistill: cross-architecture knowledge distillation for vision models, in .NET.");
        root.Subcommands.Add(InfoCommand.Create());
        root.Subcommands.Add(BenchCommand.Create());
        try
        {
            return root.Parse(args).Invoke();
        }
        catch (CliException e)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return e.ExitCode;
        }
    }
}

/// <summary>A failure the user can act on: printed without a stack trace, with a non-zero exit code.</summary>
public sealed class CliException : Exception
{
    public CliException(string message, int exitCode = 2) : base(message) => ExitCode = exitCode;

    public int ExitCode { get; }
}
