namespace CrossDistill.Training.Metrics;

/// <summary>
/// Accumulates predictions over an evaluation pass and reports top-1/top-5 accuracy, mean loss,
/// the confusion matrix, and macro one-vs-rest AUROC (as scikit-learn's
/// roc_auc_score(multi_class="ovr", average="macro") on the softmax scores).
/// </summary>
public sealed class ClassificationMetrics
{
    private readonly int _classes;
    private readonly List<float[]> _scores = new();
    private readonly List<int> _labels = new();
    private double _lossSum;
    private long _lossCount;

    public ClassificationMetrics(int classes)
    {
        if (classes < 2) throw new ArgumentOutOfRangeException(nameof(classes), "At least two classes are needed.");
        _classes = classes;
    }

    public int Count => _labels.Count;

    /// <summary>Adds one batch: row-major probabilities (N × classes), labels, and the batch's summed loss.</summary>
    public void Add(ReadOnlySpan<float> probabilities, ReadOnlySpan<long> labels, double lossSum = 0)
    {
        if (probabilities.Length != labels.Length * _classes)
            throw new ArgumentException($"{probabilities.Length} scores for {labels.Length} labels and {_classes} classes.");
        for (int i = 0; i < labels.Length; i++)
        {
            if (labels[i] < 0 || labels[i] >= _classes) throw new ArgumentOutOfRangeException(nameof(labels), $"Label {labels[i]} is outside [0, {_classes}).");
            _scores.Add(probabilities.Slice(i * _classes, _classes).ToArray());
            _labels.Add((int)labels[i]);
        }
        _lossSum += lossSum;
        _lossCount += labels.Length;
    }

    public double MeanLoss => _lossCount == 0 ? double.NaN : _lossSum / _lossCount;

    public double TopK(int k)
    {
        if (Count == 0) return double.NaN;
        int hits = 0;
        for (int i = 0; i < Count; i++)
        {
            var s = _scores[i];
            float target = s[_labels[i]];
            // Rank = how many classes score strictly higher (ties favour the true class, as torch.topk order is unspecified).
            int higher = 0;
            for (int c = 0; c < _classes; c++) if (s[c] > target) higher++;
            if (higher < k) hits++;
        }
        return (double)hits / Count;
    }

    public double Accuracy => TopK(1);

    public int[,] ConfusionMatrix()
    {
        var m = new int[_classes, _classes];
        for (int i = 0; i < Count; i++) m[_labels[i], ArgMax(_scores[i])]++;
        return m;
    }

    /// <summary>The predicted class of every sample, in order.</summary>
    public int[] Predictions() => _scores.Select(ArgMax).ToArray();

    private static int ArgMax(float[] s)
    {
        int best = 0;
        for (int c = 1; c < s.Length; c++) if (s[c] > s[best]) best = c;
        return best;
    }

    /// <summary>Macro one-vs-rest AUROC over the classes present (NaN when a class has no positives or no negatives).</summary>
    public double MacroAuroc()
    {
        double sum = 0;
        for (int c = 0; c < _classes; c++)
        {
            double auc = Auroc.Binary(_scores.Select(s => (double)s[c]).ToArray(), _labels.Select(l => l == c).ToArray());
            if (double.IsNaN(auc)) return double.NaN;
            sum += auc;
        }
        return sum / _classes;
    }
}

public static class Auroc
{
    /// <summary>
    /// The area under the ROC curve of one score against binary labels, via the Mann–Whitney rank
    /// statistic with average ranks for ties (equal to the trapezoidal ROC area scikit-learn computes).
    /// </summary>
    public static double Binary(double[] scores, bool[] positive)
    {
        int n = scores.Length;
        long pos = positive.Count(p => p), neg = n - pos;
        if (pos == 0 || neg == 0) return double.NaN;
        var order = Enumerable.Range(0, n).OrderBy(i => scores[i]).ToArray();
        double rankSumPositive = 0;
        for (int i = 0; i < n;)
        {
            int j = i;
            while (j + 1 < n && scores[order[j + 1]] == scores[order[i]]) j++;
            double averageRank = (i + j) / 2.0 + 1;
            for (int k = i; k <= j; k++) if (positive[order[k]]) rankSumPositive += averageRank;
            i = j + 1;
        }
        return (rankSumPositive - pos * (pos + 1) / 2.0) / ((double)pos * neg);
    }
}
