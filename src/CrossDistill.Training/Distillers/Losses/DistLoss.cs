using CrossDistill.Engine;

namespace CrossDistill.Training.Distillers.Losses;

/// <summary>
/// DIST (Huang et al., NeurIPS 2022): relations instead of exact probabilities. With y = softmax(z/τ),
/// the inter-class term is 1 − mean over samples of the Pearson correlation between the student's
/// and the teacher's class distributions (rows), the intra-class term the same over classes
/// (columns: how each class's probability varies across the batch). Both are scaled by τ² as in
/// the official code (hunto/DIST_KD), whose cosine adds ε = 1e-8 to the product of the norms.
/// </summary>
public static class DistLoss
{
    public const float CorrelationEps = 1e-8f;

    /// <summary>β·inter + γ·intra.</summary>
    public static Tensor Compute(Tensor studentLogits, Tensor teacherLogits, float beta, float gamma, float tau)
    {
        var (inter, intra) = Terms(studentLogits, teacherLogits, tau);
        return inter * beta + intra * gamma;
    }

    /// <summary>τ²·(1 − mean row correlation) and τ²·(1 − mean column correlation).</summary>
    public static (Tensor Inter, Tensor Intra) Terms(Tensor studentLogits, Tensor teacherLogits, float tau)
    {
        const string name = "DistLoss";
        LossChecks.Logits(name, studentLogits, teacherLogits);
        LossChecks.Temperature(name, tau);
        var ys = F.Softmax(studentLogits / tau, 1);
        var yt = F.Softmax(teacherLogits / tau, 1);
        float t2 = tau * tau;
        var inter = (1f - Torch.Mean(RowPearson(ys, yt))) * t2;
        var intra = (1f - Torch.Mean(RowPearson(ys.Transpose(0, 1), yt.Transpose(0, 1)))) * t2;
        return (inter, intra);
    }

    /// <summary>The Pearson correlation of each row of <paramref name="a"/> with the same row of <paramref name="b"/>.</summary>
    public static Tensor RowPearson(Tensor a, Tensor b)
    {
        var ca = a - Torch.Mean(a, 1, keepDim: true);
        var cb = b - Torch.Mean(b, 1, keepDim: true);
        var dot = Torch.Sum(ca * cb, 1);
        var norms = Norm(ca) * Norm(cb);
        return dot / (norms + CorrelationEps);
    }

    /// <summary>
    /// Row norms whose gradient is 0 at a zero row, as torch.norm's: a constant row (a uniform
    /// softmax, e.g. from a zero-initialised head) would otherwise give 0·∞ = NaN through √.
    /// The clamp moves the value by at most 1e-15, far below the 1e-8 in the denominator.
    /// </summary>
    private static Tensor Norm(Tensor rows) => Torch.Sqrt(Torch.Clamp(Torch.Sum(rows * rows, 1), MinSquaredNorm, null));

    private const float MinSquaredNorm = 1e-30f;
}
