using System.CommandLine;
using CrossDistill.Engine;
using CrossDistill.Engine.IO;
using CrossDistill.Engine.Nn;
using CrossDistill.Models;

namespace CrossDistill.Cli.Commands;

/// <summary>
/// `crossdistill predict`: runs a model in eval mode on the tensor `images` (N, C, H, W) of a
/// safetensors file and writes `logits` (and with --features, `stage1`…`stage4`).
/// </summary>
public static class PredictCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "Architecture name (see `crossdistill models`).", Required = true };
        var classes = new Option<int>("--num-classes") { Description = "Classifier width.", DefaultValueFactory = _ => 1000 };
        var imageSize = new Option<int?>("--image-size") { Description = "Input side (default: the images' height)." };
        var inChans = new Option<int?>("--in-chans") { Description = "Input channels (default: the images' channels)." };
        var weights = new Option<string?>("--weights") { Description = "Weights (safetensors with PyTorch names); random init when omitted." };
        var input = new Option<string>("--input") { Description = "Safetensors file with a float32 tensor 'images' (N, C, H, W).", Required = true };
        var output = new Option<string>("--output") { Description = "Safetensors file to write 'logits' (N, classes) to.", Required = true };
        var features = new Option<bool>("--features") { Description = "Also write the four stage features as stage1…stage4." };
        var command = new Command("predict", "Run a model on a tensor of images and write its logits.") { model, classes, imageSize, inChans, weights, input, output, features };
        command.SetAction(result =>
        {
            string inputPath = result.GetValue(input)!;
            Dictionary<string, Tensor> tensors;
            try { tensors = Safetensors.Load(inputPath); }
            catch (Exception e) when (e is SafetensorsException or FileNotFoundException) { throw new CliException(e.Message); }
            if (!tensors.TryGetValue("images", out var images))
                throw new CliException($"'{inputPath}' has no tensor named 'images' (it has: {string.Join(", ", tensors.Keys)}).");
            if (images.Rank != 4 || images.DType != DType.Float32)
                throw new CliException($"'images' in '{inputPath}' must be float32 (N, C, H, W), got {images.DType} {ShapeUtil.Format(images.Shape)}.");
            var config = new ModelConfig
            {
                NumClasses = result.GetValue(classes),
                ImageSize = result.GetValue(imageSize) ?? images.Shape[2],
                InChannels = result.GetValue(inChans) ?? images.Shape[1],
            };
            if (images.Shape[1] != config.InChannels || images.Shape[2] != config.ImageSize || images.Shape[3] != config.ImageSize)
                throw new CliException($"'images' has shape {ShapeUtil.Format(images.Shape)} but the model expects (N, {config.InChannels}, {config.ImageSize}, {config.ImageSize}).");
            using var net = ModelGuard.Create(result.GetValue(model)!, config);
            if (result.GetValue(weights) is { } weightsPath)
            {
                try { net.Load(weightsPath, strict: true); }
                catch (Exception e) when (e is StateDictException or SafetensorsException or FileNotFoundException) { throw new CliException(e.Message); }
            }
            net.Eval();
            using var noGrad = GradMode.NoGrad();
            var outputs = net.ForwardFeatures(images);
            var written = new Dictionary<string, Tensor> { ["logits"] = outputs.Logits };
            if (result.GetValue(features))
                for (int i = 0; i < 4; i++) written[$"stage{i + 1}"] = outputs.Features[i];
            Safetensors.Save(result.GetValue(output)!, written, new Dictionary<string, string> { ["model"] = net.ArchitectureName });
            Console.WriteLine($"wrote {string.Join(", ", written.Select(kv => $"{kv.Key} {ShapeUtil.Format(kv.Value.Shape)}"))} to {result.GetValue(output)}");
            return 0;
        });
        return command;
    }
}
