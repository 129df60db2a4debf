using CrossDistill.Data.Loading;
using CrossDistill.Engine;
using CrossDistill.Engine.Nn;
using CrossDistill.Training.Metrics;

namespace CrossDistill.Training.Runs;

/// <summary>The metrics of one evaluation pass.</summary>
public sealed record EvalResult(double Accuracy, double Top5, double Auroc, double Loss, int Count, int[,] Confusion, IReadOnlyList<string> Classes)
{
    /// <summary>The metrics as "prefix/name" entries (val/accuracy, val/top5, val/auroc, val/loss).</summary>
    public IEnumerable<KeyValuePair<string, double>> Named(string prefix) => new[]
    {
        new KeyValuePair<string, double>(prefix + "/accuracy", Accuracy),
        new(prefix + "/top5", Top5),
        new(prefix + "/auroc", Auroc),
        new(prefix + "/loss", Loss),
    };
}

public static class Evaluator
{
    /// <summary>
    /// Runs <paramref name="model"/> in eval mode over one pass of <paramref name="loader"/> with no
    /// graph: top-1 and top-5 accuracy, macro one-vs-rest AUROC, mean cross-entropy and the
    /// confusion matrix. The model's mode is restored afterwards.
    /// </summary>
    public static EvalResult Evaluate(Module<Tensor, Tensor> model, DataLoader loader)
    {
        var classes = loader.Dataset.Classes;
        var metrics = new ClassificationMetrics(classes.Count);
        bool wasTraining = model.Training;
        model.Eval();
        try
        {
            using var noGrad = GradMode.NoGrad();
            foreach (var batch in loader)
            {
                using (batch)
                using (DisposeScope.Enter())
                {
                    var logits = model.Forward(batch.Images);
                    double lossSum = F.CrossEntropy(logits, batch.Labels, reduction: "sum").Item();
                    var probabilities = F.Softmax(logits, 1).ToArray();
                    metrics.Add(probabilities, batch.Labels.ToLongArray(), lossSum);
                }
            }
        }
        finally
        {
            model.Train(wasTraining);
        }
        return new EvalResult(metrics.Accuracy, metrics.TopK(Math.Min(5, classes.Count)), metrics.MacroAuroc(), metrics.MeanLoss, metrics.Count, metrics.ConfusionMatrix(), classes);
    }
}
