using System.CommandLine;
using CrossDistill.Training.Runs;

namespace CrossDistill.Cli.Commands;

/// <summary>`crossdistill train`: trains a model alone (a teacher, or a vanilla student).</summary>
public static class TrainCommand
{
    public static Command Create()
    {
        var options = new RunSupport.Options();
        var command = new Command("train", "Train a model on its own (a teacher, or a vanilla baseline student): epochs, evaluation and a checkpoint per epoch, student.safetensors at the end.");
        options.AddTo(command);
        command.SetAction(result => RunSupport.Execute(result, options, RunKind.Train));
        return command;
    }
}
