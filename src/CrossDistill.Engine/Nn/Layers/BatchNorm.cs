namespace CrossDistill.Engine.Nn;

/// <summary>
/// Batch normalisation over dim 1, as torch.nn.BatchNorm1d/2d: batch statistics and a momentum
/// update of the running ones (and num_batches_tracked) in training, the running statistics in
/// eval; without running statistics, batch statistics in both modes. PyTorch's momentum=None
/// (a cumulative moving average driven by num_batches_tracked) is not supported: the momentum is
/// always a float factor.
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
    public bool Affine => Weight is not null;
    public bool TrackRunningStats => RunningMean is not null;

    protected BatchNorm(int numFeatures, float eps, float momentum, bool affine, bool trackRunningStats, int expectedRank)
    {
        if (numFeatures < 1) throw new ArgumentException($"{GetType().Name}: num_features must be positive, got {numFeatures}.", nameof(numFeatures));
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
        if (!rankOk)
            throw new ArgumentException($"{GetType().Name}: expected {(_expectedRank == 4 ? "4-D" : "2-D or 3-D")} input, got shape {ShapeUtil.Format(x.Shape)}.", nameof(x));
        if (x.Shape[1] != NumFeatures)
            throw new ArgumentException($"{GetType().Name}({NumFeatures}): input of shape {ShapeUtil.Format(x.Shape)} has {x.Shape[1]} channels.", nameof(x));
        bool useBatchStats = Training || RunningMean is null;
        if (Training && NumBatchesTracked is not null) NumBatchesTracked.LongSpan[0] += 1;
        return F.BatchNorm(x, RunningMean, RunningVar, Weight, Bias, useBatchStats, Momentum, Eps);
    }
}

/// <summary>Batch norm of (N, C) or (N, C, L) inputs.</summary>
public sealed class BatchNorm1d : BatchNorm
{
    public BatchNorm1d(int numFeatures, float eps = 1e-5f, float momentum = 0.1f, bool affine = true, bool trackRunningStats = true)
        : base(numFeatures, eps, momentum, affine, trackRunningStats, expectedRank: 2) { }
}

/// <summary>Batch norm of (N, C, H, W) inputs (either layout; the output keeps it).</summary>
public sealed class BatchNorm2d : BatchNorm
{
    public BatchNorm2d(int numFeatures, float eps = 1e-5f, float momentum = 0.1f, bool affine = true, bool trackRunningStats = true)
        : base(numFeatures, eps, momentum, affine, trackRunningStats, expectedRank: 4) { }
}
