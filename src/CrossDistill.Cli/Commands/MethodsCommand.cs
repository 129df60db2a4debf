using System.CommandLine;
using CrossDistill.Training.Config;
using CrossDistill.Training.Distillers;

namespace CrossDistill.Cli.Commands;

/// <summary>`crossdistill methods`: the registered distillation methods and their parameters with defaults.</summary>
public static class MethodsCommand
{
    public static Command Create()
    {
        var command = new Command("methods", "List the distillation methods (method.name) and their parameters (method.params) with defaults.");
        command.SetAction(result =>
        {
            var output = result.InvocationConfiguration.Output;
            foreach (var method in DistillerRegistry.Methods)
            {
                output.WriteLine($"{method.Name}: {method.Description}");
                output.WriteLine(method.NeedsTeacher ? $"  teachers: {method.Teachers} (use `crossdistill distill`)" : "  teachers: none (use `crossdistill train`)");
                if (method.ParamsType is null)
                {
                    output.WriteLine("  params: none");
                }
                else
                {
                    foreach (var key in ConfigDocs.Describe(method.ParamsType, "method.params"))
                        output.WriteLine($"  {key.Path} = {key.Default}  ({key.Type}{(key.Range is null ? "" : " in " + key.Range)}) {key.Description}");
                }
                output.WriteLine();
            }
            return 0;
        });
        return command;
    }
}
