using CrossDistill.Cli;
using CrossDistill.Training.Config;

namespace CrossDistill.Training.Tests.Support;

/// <summary>Tiny runs on the shapes data: 16-px images, 96 training images, a handful of steps per epoch.</summary>
public static class TestRuns
{
    public static string Yaml(string name, string outputDir, string model = "tiny_cnn", string method = "vanilla", int epochs = 2, string extra = "") => $"""
        name: {name}
        output_dir: "{outputDir}"
        seed: 3
        model:
          name: {model}
        dataset:
          name: shapes
          image_size: 16
          options:
            train_size: 96
            test_size: 40
        method:
          name: {method}
        optimizer:
          name: sgd
          lr: 0.05
        schedule:
          name: cosine
          warmup_epochs: 0.5
        train:
          epochs: {epochs}
          batch_size: 16
          eval_batch_size: 64
          log_every: 2
          loader_workers: 1
        {extra}
        """;

    public static RunConfig Config(string yaml, params string[] overrides)
    {
        var tree = ConfigLoader.ParseText(yaml);
        ConfigLoader.ApplyOverrides(tree, overrides);
        return ConfigBinder.Bind<RunConfig>(tree);
    }

    public static (int Code, string Output, string Error) Cli(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int code = Program.Run(args, output, error);
        return (code, output.ToString(), error.ToString());
    }
}
