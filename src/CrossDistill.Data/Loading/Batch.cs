using CrossDistill.Engine;

namespace CrossDistill.Data.Loading;

/// <summary>
/// One batch from a <see cref="DataLoader"/>. Its tensors belong to no disposal scope: the
/// consumer owns them and disposes the batch when done with it.
/// </summary>
public sealed class Batch : IDisposable
{
    internal Batch(Tensor images, Tensor labels, Tensor? softTargets, Tensor? secondaryLabels, int[] indices, int epoch, int number)
    {
        Images = images;
        Labels = labels;
        SoftTargets = softTargets;
        SecondaryLabels = secondaryLabels;
        Indices = indices;
        Epoch = epoch;
        Number = number;
    }

    /// <summary>float32, N×C×H×W, contiguous.</summary>
    public Tensor Images { get; }

    /// <summary>int64, N: each sample's own label (with mixup, the label of the image that weighs λ).</summary>
    public Tensor Labels { get; }

    /// <summary>float32, N×classes: target distributions after mixup, CutMix or label smoothing; null otherwise.</summary>
    public Tensor? SoftTargets { get; }

    /// <summary>int64, N: the dataset's secondary label (texture class for shapes, coarse class for CIFAR-100); null when it has none.</summary>
    public Tensor? SecondaryLabels { get; }

    /// <summary>The dataset index of every sample, in batch order.</summary>
    public int[] Indices { get; }

    public int Epoch { get; }

    /// <summary>The batch's position in its epoch, from 0.</summary>
    public int Number { get; }

    public int Count => Indices.Length;

    public void Dispose()
    {
        Images.Dispose();
        Labels.Dispose();
        SoftTargets?.Dispose();
        SecondaryLabels?.Dispose();
    }
}
