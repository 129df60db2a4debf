using CrossDistill.Engine;

namespace CrossDistill.Training.Distillers;

/// <summary>Hard class targets for methods that need one class per sample (DKD's and OFA's masks).</summary>
public static class BatchTargets
{
    /// <summary>
    /// The labels, or the argmax of the soft targets after mixup/cutmix, as OFA-KD's code does for
    /// both DKD and OFA (label.max(1)[1] / label.argmax(-1)).
    /// </summary>
    public static Tensor HardLabels(DistillBatch batch) => batch.SoftTargets is { } soft ? Torch.Argmax(soft, 1) : batch.Labels;
}
