using CrossDistill.Engine.Kernels;

namespace CrossDistill.Engine;

public static partial class F
{
    /// <summary>
    /// float32 one-hot rows for int64 <paramref name="labels"/>: shape labels.shape + [numClasses]
    /// (F.one_hot, as floats). numClasses -1 takes the largest label + 1.
    /// </summary>
    public static unsafe Tensor OneHot(Tensor labels, int numClasses = -1)
    {
        if (labels.DType != DType.Int64) throw new ArgumentException($"OneHot: labels must be an int64 tensor, got {labels.DType}.", nameof(labels));
        if (numClasses == -1)
        {
            if (labels.Numel == 0) throw new ArgumentException("OneHot: cannot infer the number of classes from an empty tensor.", nameof(labels));
            numClasses = (int)Math.Min(int.MaxValue, labels.ToLongArray().Max() + 1);
        }
        if (numClasses < 1) throw new ArgumentException($"OneHot: the number of classes must be positive, got {numClasses}.", nameof(numClasses));
        using var classes = IndexRows.Checked("OneHot", labels, numClasses, $"{numClasses} classes");
        var output = Torch.Zeros(labels.Shape.Append(numClasses).ToArray());
        float* o = output.DataPtr;
        long* c = classes.LongPtr;
        for (int i = 0; i < classes.Numel; i++) o[(long)i * numClasses + c[i]] = 1f;
        return output;
    }
}
