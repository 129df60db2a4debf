using System.CommandLine;
using CrossDistill.Training.Runs;

namespace CrossDistill.Cli.Commands;

/// <summary>`crossdistill distill`: trains a student from a frozen teacher with a distillation method.</summary>
public static class DistillCommand
{
    public static Command Create()
    {
        var options = new RunSupport.Options();
        var command = new Command("distill", "Distil a student from a frozen teacher (teacher.run: a finished run directory, or teacher.name + teacher.weights) with the config's method.");
        options.AddTo(command);
        command.SetAction(result => RunSupport.Execute(result, options, RunKind.Distill));
        return command;
    }
}
