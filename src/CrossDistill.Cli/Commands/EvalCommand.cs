using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using CrossDistill.Training.Config;
using CrossDistill.Training.Runs;

namespace CrossDistill.Cli.Commands;

/// <summary>`crossdistill eval`: accuracy, top-5, macro AUROC, loss and the confusion matrix of trained weights.</summary>
public static class EvalCommand
{
    public static Command Create()
    {
        var run = new Option<string?>("--run") { Description = "A finished run directory: evaluates its student.safetensors as the run was trained." };
        var model = new Option<string?>("--model") { Description = "Or: an architecture name (with --weights and --dataset)." };
        var weights = new Option<string?>("--weights") { Description = "A safetensors file with PyTorch names (with --model; with --run it replaces the run's student)." };
        var dataset = new Option<string?>("--dataset") { Description = "Dataset name (with --model)." };
        var root = new Option<string?>("--root") { Description = "Folder holding the dataset's files (with --model)." };
        var imageSize = new Option<int?>("--image-size") { Description = "Image side fed to the model (with --model; default: the dataset's)." };
        var split = new Option<string>("--split", "-s") { Description = "Split to evaluate (test, cue-conflict, patch-shuffle-4, noise-3, …).", DefaultValueFactory = _ => "test" };
        var ema = new Option<bool>("--ema") { Description = "With --run: evaluate the EMA weights (student_ema.safetensors)." };
        var batch = new Option<int?>("--batch-size") { Description = "Evaluation batch size." };
        var json = new Option<bool>("--json") { Description = "Print the metrics as one JSON object." };
        var command = new Command("eval", "Evaluate trained weights: --run DIR, or --model NAME --weights F --dataset D.");
        foreach (var o in new Option[] { run, model, weights, dataset, root, imageSize, split, ema, batch, json }) command.Options.Add(o);
        command.SetAction(result =>
        {
            var output = result.InvocationConfiguration.Output;
            string splitName = result.GetValue(split)!;
            int? batchSize = result.GetValue(batch);
            if (batchSize is <= 0) throw new CliException($"--batch-size must be positive, got {batchSize}.");
            (EvalResult Result, string Description) evaluation;
            try
            {
                if (result.GetValue(run) is { } runDir)
                {
                    if (result.GetValue(model) is not null || result.GetValue(dataset) is not null)
                        throw new CliException("--run evaluates a run's own model on its own dataset; leave out --model and --dataset.");
                    evaluation = RunEvaluation.FromRun(runDir, splitName, result.GetValue(ema), result.GetValue(weights), batchSize);
                }
                else
                {
                    string? name = result.GetValue(model), file = result.GetValue(weights), data = result.GetValue(dataset);
                    if (name is null || file is null || data is null)
                        throw new CliException("give --run RUN_DIR, or all of --model NAME --weights FILE --dataset NAME.");
                    evaluation = RunEvaluation.FromModel(name, file, data, splitName, result.GetValue(root), result.GetValue(imageSize), batchSize: batchSize ?? 256);
                }
            }
            catch (ConfigException e) { throw new CliException(e.Message); }
            catch (RunException e) { throw new CliException(e.Message); }
            output.Write(result.GetValue(json) ? ToJson(evaluation.Result, evaluation.Description) + "\n" : ToText(evaluation.Result, evaluation.Description));
            return 0;
        });
        return command;
    }

    private static string Number(double v) => double.IsFinite(v) ? v.ToString("F4", CultureInfo.InvariantCulture) : "n/a";

    public static string ToText(EvalResult r, string description)
    {
        var sb = new StringBuilder();
        sb.AppendLine(description);
        sb.AppendLine($"images: {r.Count}");
        sb.AppendLine($"accuracy: {Number(r.Accuracy)}");
        sb.AppendLine($"top5: {Number(r.Top5)}");
        sb.AppendLine($"auroc: {Number(r.Auroc)}");
        sb.AppendLine($"loss: {Number(r.Loss)}");
        sb.AppendLine("confusion matrix (rows: true class, columns: predicted):");
        int k = r.Classes.Count;
        int width = Math.Max(5, Enumerable.Range(0, k).SelectMany(i => Enumerable.Range(0, k).Select(j => r.Confusion[i, j].ToString(CultureInfo.InvariantCulture).Length)).Max() + 1);
        int label = Math.Min(24, r.Classes.Max(c => c.Length));
        sb.Append(new string(' ', label + 1));
        for (int j = 0; j < k; j++) sb.Append(j.ToString(CultureInfo.InvariantCulture).PadLeft(width));
        sb.AppendLine();
        for (int i = 0; i < k; i++)
        {
            string name = r.Classes[i].Length > label ? r.Classes[i][..label] : r.Classes[i];
            sb.Append($"{i,2} ").Append(name.PadRight(label - 2));
            for (int j = 0; j < k; j++) sb.Append(r.Confusion[i, j].ToString(CultureInfo.InvariantCulture).PadLeft(width));
            sb.AppendLine();
        }
        return sb.ToString();
    }

    public static string ToJson(EvalResult r, string description)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("description", description);
            json.WriteNumber("count", r.Count);
            foreach (var (name, value) in new[] { ("accuracy", r.Accuracy), ("top5", r.Top5), ("auroc", r.Auroc), ("loss", r.Loss) })
            {
                if (double.IsFinite(value)) json.WriteNumber(name, value);
                else json.WriteNull(name);
            }
            json.WriteStartArray("classes");
            foreach (var c in r.Classes) json.WriteStringValue(c);
            json.WriteEndArray();
            json.WriteStartArray("confusion");
            for (int i = 0; i < r.Classes.Count; i++)
            {
                json.WriteStartArray();
                for (int j = 0; j < r.Classes.Count; j++) json.WriteNumberValue(r.Confusion[i, j]);
                json.WriteEndArray();
            }
            json.WriteEndArray();
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }
}
