using CrossDistill.Engine;
using CrossDistill.Engine.Nn;

namespace CrossDistill.Training.Distillers.PatModules;

/// <summary>
/// The SE block inside PAT's prompt and fusion blocks: e = σ(excite(relu(compress(GAP(x))))) with
/// 1×1 convolutions C→C/r→C (C/r at least 1, so narrow test models work; PyTorch would refuse 0).
/// Corrected mode returns x·e. The official code returns e alone, (B, C, 1, 1) (research notes §1.5
/// (a)): everything after it then works on a per-sample, per-channel vector, and the prompt adds a
/// bias per channel to the teacher's features; <c>asPublished</c> reproduces that.
/// </summary>
public sealed class SqueezeExcitation : Module<Tensor, Tensor>
{
    public SqueezeExcitation(int channels, bool asPublished, int reduction = 16)
    {
        if (channels < 1 || reduction < 1)
            throw new ArgumentException($"SqueezeExcitation: channels {channels} and reduction {reduction} must be positive.");
        AsPublished = asPublished;
        int hidden = Math.Max(1, channels / reduction);
        Compress = RegisterModule("compress", new Conv2d(channels, hidden, 1));
        Excite = RegisterModule("excite", new Conv2d(hidden, channels, 1));
    }

    public bool AsPublished { get; }
    public Conv2d Compress { get; }
    public Conv2d Excite { get; }

    public override Tensor Forward(Tensor x)
    {
        var excitation = Excite.Forward(F.Relu(Compress.Forward(F.AdaptiveAvgPool2d(x, 1)))).Sigmoid();
        return AsPublished ? excitation : x * excitation;
    }
}
