using System.CommandLine;
using System.Globalization;
using CrossDistill.Engine;
using CrossDistill.Engine.Kernels;
using CrossDistill.Models;

namespace CrossDistill.Cli.Commands;

/// <summary>`crossdistill models`: the architectures of the zoo with their size and cost.</summary>
public static class ModelsCommand
{
    public static Command Create()
    {
        var imageSize = new Option<int?>("--image-size") { Description = "Input side for the FLOP count (default: each model's own)." };
        var classes = new Option<int>("--num-classes") { Description = "Classifier width.", DefaultValueFactory = _ => 1000 };
        var inChans = new Option<int>("--in-chans") { Description = "Input channels.", DefaultValueFactory = _ => 3 };
        var filter = new Option<string?>("--filter") { Description = "Only models whose name contains this text." };
        var stages = new Option<bool>("--stages") { Description = "Also print each model's four stage feature shapes." };
        var command = new Command("models", "List the architectures with parameter counts and forward FLOPs.") { imageSize, classes, inChans, filter, stages };
        command.SetAction(result =>
        {
            Console.WriteLine($"{"name",-34} {"family",-11} {"names",-11} {"input",6} {"params",10} {"GFLOPs",9}");
            foreach (var preset in ModelZoo.Presets)
            {
                if (result.GetValue(filter) is { } f && !preset.Name.Contains(f, StringComparison.OrdinalIgnoreCase)) continue;
                int size = result.GetValue(imageSize) ?? preset.DefaultImageSize;
                var config = new ModelConfig { ImageSize = size, NumClasses = result.GetValue(classes), InChannels = result.GetValue(inChans) };
                using var model = ModelGuard.Create(preset.Name, config);
                long flops = ForwardFlops(model, config);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{preset.Name,-34} {preset.Family,-11} {preset.Naming,-11} {size,6} {model.ParameterCount() / 1e6,9:F2}M {flops / 1e9,9:F3}"));
                if (result.GetValue(stages))
                    for (int i = 0; i < 4; i++) Console.WriteLine($"    stage {i + 1}: in {model.StageInputSpecs[i]}, out {model.StageOutputSpecs[i]}");
            }
            return 0;
        });
        return command;
    }

    /// <summary>FLOPs of one eval-mode forward pass of a single image.</summary>
    public static long ForwardFlops(VisionModel model, ModelConfig config)
    {
        model.Eval();
        using var noGrad = GradMode.NoGrad();
        using var scope = DisposeScope.Enter();
        var x = Torch.Zeros(1, config.InChannels, config.ImageSize, config.ImageSize);
        return FlopCounter.Measure(() => model.Forward(x));
    }
}

/// <summary>Model construction and weight loading with errors a user can act on.</summary>
internal static class ModelGuard
{
    public static VisionModel Create(string name, ModelConfig config)
    {
        try { return ModelZoo.Create(name, config); }
        catch (KeyNotFoundException e) { throw new CliException(e.Message); }
        catch (ArgumentException e) { throw new CliException($"Cannot build '{name}' for input {config.InChannels}×{config.ImageSize}×{config.ImageSize}: {e.Message}"); }
    }
}
