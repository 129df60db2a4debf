using System.Buffers;
using CrossDistill.Engine;

namespace CrossDistill.Data.Transforms;

/// <summary>A batch being assembled: its images (N×C×H×W) and hard labels, and soft targets once a transform needs them.</summary>
public sealed class BatchBuffer
{
    private readonly Tensor _images;

    internal BatchBuffer(Tensor images, int[] labels, int classes)
    {
        _images = images;
        Labels = labels;
        Classes = classes;
    }

    public int Count => Labels.Length;
    public int Channels => _images.Shape[1];
    public int Height => _images.Shape[2];
    public int Width => _images.Shape[3];
    public int ImageLength => Channels * Height * Width;

    /// <summary>The number of classes, the width of the soft targets.</summary>
    public int Classes { get; }

    /// <summary>Every image, back to back, each C×H×W.</summary>
    public Span<float> Images => _images.Span;

    public int[] Labels { get; }

    /// <summary>N×classes target distributions, or null while the labels are still hard.</summary>
    public float[]? SoftTargets { get; private set; }

    /// <summary>The soft targets, made one-hot from the labels on first use.</summary>
    public float[] EnsureSoftTargets()
    {
        if (SoftTargets is not null) return SoftTargets;
        var targets = new float[Count * Classes];
        for (int i = 0; i < Count; i++) targets[i * Classes + Labels[i]] = 1f;
        return SoftTargets = targets;
    }
}

/// <summary>
/// A transform of a whole batch (mixing samples, softening targets). The loader gives each batch
/// a generator seeded from (seed, epoch, batch number), so results do not depend on threads.
/// </summary>
public interface IBatchTransform
{
    void Apply(BatchBuffer batch, Generator rng);
}

/// <summary>
/// mixup (Zhang et al. 2018): every image and target becomes λ·own + (1−λ)·partner's, with one
/// λ ~ Beta(α, α) per batch and partners from a random permutation of the batch.
/// </summary>
public sealed class Mixup : IBatchTransform
{
    public Mixup(double alpha = 0.2)
    {
        if (!(alpha > 0)) throw new ArgumentException($"Mixup: alpha must be positive, got {alpha}.");
        Alpha = alpha;
    }

    public double Alpha { get; }

    public void Apply(BatchBuffer batch, Generator rng)
    {
        float lambda = (float)rng.NextBeta(Alpha, Alpha);
        var partner = rng.Permutation(batch.Count);
        var images = batch.Images;
        var original = ArrayPool<float>.Shared.Rent(images.Length);
        try
        {
            images.CopyTo(original);
            int length = batch.ImageLength;
            for (int i = 0; i < batch.Count; i++)
            {
                var own = images.Slice(i * length, length);
                var other = original.AsSpan(partner[i] * length, length);
                for (int k = 0; k < length; k++) own[k] = lambda * own[k] + (1 - lambda) * other[k];
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(original);
        }
        BatchMixing.MixTargets(batch, partner, lambda);
    }
}

/// <summary>
/// CutMix (Yun et al. 2019): a box covering about 1−λ of the image (λ ~ Beta(α, α), one per
/// batch) is pasted from each sample's partner; the targets mix by the box's actual area.
/// </summary>
public sealed class CutMix : IBatchTransform
{
    public CutMix(double alpha = 1.0)
    {
        if (!(alpha > 0)) throw new ArgumentException($"CutMix: alpha must be positive, got {alpha}.");
        Alpha = alpha;
    }

    public double Alpha { get; }

    /// <summary>The box (top, left, bottom, right; exclusive ends) for λ and a centre, clipped to the image, as the reference code does.</summary>
    public static (int Top, int Left, int Bottom, int Right) Box(int height, int width, double lambda, int centerY, int centerX)
    {
        double cut = Math.Sqrt(1 - lambda);
        int cutH = (int)(height * cut), cutW = (int)(width * cut);
        return (Math.Clamp(centerY - cutH / 2, 0, height), Math.Clamp(centerX - cutW / 2, 0, width),
                Math.Clamp(centerY + cutH / 2, 0, height), Math.Clamp(centerX + cutW / 2, 0, width));
    }

    public void Apply(BatchBuffer batch, Generator rng)
    {
        double lambda = rng.NextBeta(Alpha, Alpha);
        int cy = rng.NextInt(batch.Height), cx = rng.NextInt(batch.Width);
        var partner = rng.Permutation(batch.Count);
        var (top, left, bottom, right) = Box(batch.Height, batch.Width, lambda, cy, cx);
        var images = batch.Images;
        int length = batch.ImageLength, plane = batch.Height * batch.Width;
        // Only the boxes are read from the partners, so only they are saved before pasting.
        int boxWidth = right - left, boxSize = batch.Channels * (bottom - top) * boxWidth;
        var boxes = ArrayPool<float>.Shared.Rent(Math.Max(1, batch.Count * boxSize));
        try
        {
            for (int pass = 0; pass < 2; pass++)
                for (int i = 0; i < batch.Count; i++)
                    for (int c = 0; c < batch.Channels; c++)
                        for (int y = top; y < bottom; y++)
                        {
                            int saved = i * boxSize + (c * (bottom - top) + y - top) * boxWidth;
                            if (pass == 0)
                            {
                                images.Slice(i * length + c * plane + y * batch.Width + left, boxWidth).CopyTo(boxes.AsSpan(saved, boxWidth));
                            }
                            else
                            {
                                int from = partner[i] * boxSize + (c * (bottom - top) + y - top) * boxWidth;
                                boxes.AsSpan(from, boxWidth).CopyTo(images.Slice(i * length + c * plane + y * batch.Width + left, boxWidth));
                            }
                        }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(boxes);
        }
        float kept = 1f - (float)((bottom - top) * (right - left)) / plane;
        BatchMixing.MixTargets(batch, partner, kept);
    }
}

/// <summary>
/// timm's batch mixing: with probability <see cref="Probability"/> the batch is mixed, by CutMix
/// with probability <see cref="SwitchProbability"/> and by mixup otherwise.
/// </summary>
public sealed class MixupOrCutMix : IBatchTransform
{
    public MixupOrCutMix(double mixupAlpha = 0.8, double cutMixAlpha = 1.0, double switchProbability = 0.5, double probability = 1.0)
    {
        if (!(switchProbability >= 0 && switchProbability <= 1)) throw new ArgumentException($"MixupOrCutMix: switch probability must be in [0, 1], got {switchProbability}.");
        if (!(probability >= 0 && probability <= 1)) throw new ArgumentException($"MixupOrCutMix: probability must be in [0, 1], got {probability}.");
        Mixup = new Mixup(mixupAlpha);
        CutMix = new CutMix(cutMixAlpha);
        SwitchProbability = switchProbability;
        Probability = probability;
    }

    public Mixup Mixup { get; }
    public CutMix CutMix { get; }
    public double SwitchProbability { get; }
    public double Probability { get; }

    public void Apply(BatchBuffer batch, Generator rng)
    {
        bool mix = rng.NextDouble() < Probability;
        bool cut = rng.NextDouble() < SwitchProbability;
        if (!mix)
        {
            batch.EnsureSoftTargets();
            return;
        }
        if (cut) CutMix.Apply(batch, rng);
        else Mixup.Apply(batch, rng);
    }
}

/// <summary>
/// Label smoothing: targets become (1 − ε)·target + ε/classes, the targets
/// torch.nn.CrossEntropyLoss(label_smoothing=ε) trains towards.
/// </summary>
public sealed class LabelSmoothing : IBatchTransform
{
    public LabelSmoothing(double epsilon = 0.1)
    {
        if (!(epsilon >= 0 && epsilon < 1)) throw new ArgumentException($"LabelSmoothing: ε must be in [0, 1), got {epsilon}.");
        Epsilon = epsilon;
    }

    public double Epsilon { get; }

    public void Apply(BatchBuffer batch, Generator rng)
    {
        var targets = batch.EnsureSoftTargets();
        float keep = 1f - (float)Epsilon, spread = (float)Epsilon / batch.Classes;
        for (int i = 0; i < targets.Length; i++) targets[i] = targets[i] * keep + spread;
    }
}

internal static class BatchMixing
{
    public static void MixTargets(BatchBuffer batch, int[] partner, float lambda)
    {
        var targets = batch.EnsureSoftTargets();
        var original = (float[])targets.Clone();
        int k = batch.Classes;
        for (int i = 0; i < batch.Count; i++)
            for (int c = 0; c < k; c++)
                targets[i * k + c] = lambda * original[i * k + c] + (1 - lambda) * original[partner[i] * k + c];
    }
}
