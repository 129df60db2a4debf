namespace CrossDistill.Engine.Nn;

/// <summary>
/// Batch normalisation over dim 1, as torch.nn.BatchNorm1d/2d: batch statistics and a momentum
/// update of the running ones in training, the running statistics in eval.
/// </summary>
public class BatchNorm : Module<Tensor, Tensor>
{
    private readonly int _expectedRank;

    public Tensor? Weight { get; }
    public Tensor? Bias { get; }
    public Tensor? RunningMean { get; }
    public Tensor? RunningVar { get; }
    public Tensor? NumBatchesTracked { get; }
    public int NumFeatures { get; }
    public float Eps { get; }
    public float Momentum { get; }

    protected BatchNorm(int numFeatures, float eps, float momentum, bool affine, bool trackRunningStats, int expectedRank)
    {
        (NumFeatures, Eps, Momentum, _expectedRank) = (numFeatures, eps, momentum, expectedRank);
        if (affine)
        {
            Weight = RegisterParameter("weight", Torch.Ones(numFeatures));
            Bias = RegisterParameter("bias", Torch.Zeros(numFeatures));
        }
        if (trackRunningStats)
        {
            RunningMean = RegisterBuffer("running_mean", Torch.Zeros(numFeatures));
            RunningVar = RegisterBuffer("running_var", Torch.Ones(numFeatures));
            NumBatchesTracked = RegisterBuffer("num_batches_tracked", Torch.Zeros(Array.Empty<int>(), DType.Int64));
        }
    }

    public override Tensor Forward(Tensor x)
    {
        bool rankOk = _expectedRank == 4 ? x.Rank == 4 : x.Rank is 2 or 3;
        if (!rankOk || x.Shape[1] != NumFeatures)
            throw new ArgumentException($"{GetType().Name}({NumFeatures}): unexpected input shape {ShapeUtil.Format(x.Shape)}.");
        bool useBatchStats = Training || RunningMean is null;
        if (Training && NumBatchesTracked is not null) NumBatchesTracked.LongSpan[0] += 1;
        return F.BatchNorm(x, RunningMean, RunningVar, Weight, Bias, useBatchStats, Momentum, Eps);
    }
}

public sealed class BatchNorm1d : BatchNorm
{
    public BatchNorm1d(int numFeatures, float eps = 1e-5f, float momentum = 0.1f, bool affine = true, bool trackRunningStats = true)
        : base(numFeatures, eps, momentum, affine, trackRunningStats, expectedRank: 2) { }
}

public sealed class BatchNorm2d : BatchNorm
{
    public BatchNorm2d(int numFeatures, float eps = 1e-5f, float momentum = 0.1f, bool affine = true, bool trackRunningStats = true)
        : base(numFeatures, eps, momentum, affine, trackRunningStats, expectedRank: 4) { }
}
