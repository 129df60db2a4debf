using CrossDistill.Engine;
using CrossDistill.Engine.Nn;

namespace CrossDistill.Models.Transformers;

/// <summary>
/// The two-layer GELU MLP of transformer and mixer blocks: fc1 → GELU (exact) → dropout → fc2 →
/// dropout, as timm's Mlp (children fc1, fc2) and torchvision's MLP (children 0 and 3, with the
/// activation and dropout at 1, 2 and 4).
/// </summary>
public sealed class FeedForward : Module<Tensor, Tensor>
{
    public Linear Fc1 { get; }
    public Linear Fc2 { get; }
    public float DropRate { get; }

    public FeedForward(int features, int hiddenFeatures, float dropRate, WeightNaming naming)
    {
        if (features < 1 || hiddenFeatures < 1)
            throw new ArgumentException($"FeedForward: features ({features}) and hidden features ({hiddenFeatures}) must be positive.");
        Fc1 = new Linear(features, hiddenFeatures);
        Fc2 = new Linear(hiddenFeatures, features);
        DropRate = dropRate;
        RegisterModule(naming == WeightNaming.Timm ? "fc1" : "0", Fc1);
        RegisterModule(naming == WeightNaming.Timm ? "fc2" : "3", Fc2);
    }

    public override Tensor Forward(Tensor x)
    {
        var activated = F.Gelu(Fc1.Forward(x));
        var hidden = F.Dropout(activated, DropRate, Training);
        // Dropout's backward reads only its mask; fc2's backward reads the dropped copy.
        if (!ReferenceEquals(hidden, activated)) activated.ReleaseData();
        var output = Fc2.Forward(hidden);
        var dropped = F.Dropout(output, DropRate, Training);
        if (!ReferenceEquals(dropped, output)) output.ReleaseData();
        return dropped;
    }
}
