using System.CommandLine;
using CrossDistill.Training.Config;
using CrossDistill.Training.Distillers;

namespace CrossDistill.Cli.Commands;

/// <summary>`crossdistill config defaults|resolve`: every config key with its default, and a config as a run would see it.</summary>
public static class ConfigCommand
{
    public static Command Create()
    {
        var command = new Command("config", "Show config keys and defaults, or resolve a config file with its overrides.");
        var defaults = new Command("defaults", "Print every config key with its type, default and description (method parameters: `crossdistill methods`).");
        defaults.SetAction(result =>
        {
            var output = result.InvocationConfiguration.Output;
            var keys = ConfigDocs.Describe(typeof(RunConfig));
            int width = keys.Max(k => k.Path.Length + k.Default.Length + 3);
            foreach (var key in keys)
            {
                string head = key.Type == "section" ? $"{key.Path}:" : $"{key.Path} = {key.Default}";
                string type = key.Type == "section" ? "" : $"({key.Type}{(key.Range is null ? "" : " in " + key.Range)}) ";
                output.WriteLine($"{head.PadRight(width)}  {type}{key.Description}".TrimEnd());
            }
            return 0;
        });
        command.Subcommands.Add(defaults);

        var file = new Option<string>("--config", "-c") { Description = "The YAML config.", Required = true };
        var set = new Option<string[]>("--set") { Description = "Override a config key: --set key.path=value (repeatable).", Arity = ArgumentArity.ZeroOrMore };
        var resolve = new Command("resolve", "Check a config (with --set overrides) and print it with every default filled in, as config.resolved.yaml would hold it.");
        resolve.Options.Add(file);
        resolve.Options.Add(set);
        resolve.SetAction(result =>
        {
            try
            {
                var (config, _) = ConfigLoader.Load<RunConfig>(result.GetValue(file)!, result.GetValue(set) ?? Array.Empty<string>());
                var method = DistillerRegistry.Get(config.Method.Name);
                var parameters = DistillerRegistry.BindParams(method, config.Method.Params);
                result.InvocationConfiguration.Output.Write(ConfigWriter.ToYaml(config, new Dictionary<string, object?> { ["method.params"] = parameters }));
                return 0;
            }
            catch (ConfigException e)
            {
                throw new CliException(e.Message);
            }
        });
        command.Subcommands.Add(resolve);
        return command;
    }
}
