using CrossDistill.Engine;
using CrossDistill.Engine.Nn;

namespace CrossDistill.Models;

/// <summary>The logits and the four stage features of one forward pass.</summary>
public sealed record ModelOutput(Tensor Logits, Tensor[] Features);

/// <summary>
/// The contract every architecture of the zoo implements: an image classifier split into a stem,
/// four stages and a head, so that distillers can read the four stage features (the OFA/PAT
/// convention, research notes §1.1) and run a model piece by piece, inserting modules before a
/// stage (PAT's prompts):
/// <code>
/// h = Stem(x)
/// for i in 0..3: h = StageInput(i, h); h = Stage(i, h); feature[i] = h
/// logits = Head(h)
/// </code>
/// <see cref="StageInput"/> is the transition between stage i-1's feature and stage i's input
/// (Swin's patch merging; identity for most models): PAT's prompts act on its output.
/// </summary>
public abstract class VisionModel : Module<Tensor, Tensor>
{
    protected VisionModel(ModelConfig config) => Config = config;

    public ModelConfig Config { get; }

    /// <summary>The registered name, e.g. "resnet18" or "deit_tiny_patch16_224".</summary>
    public abstract string ArchitectureName { get; }

    /// <summary>Map features (CNNs) or token features (transformers, MLPs).</summary>
    public abstract bool IsTokenModel { get; }

    /// <summary>The width of the pre-logit feature (what the classifier sees).</summary>
    public abstract int FeatureDim { get; }

    /// <summary>Each stage's output (feature) shape for this config's input size.</summary>
    public abstract FeatureSpec[] StageOutputSpecs { get; }

    /// <summary>Each stage's input shape (after <see cref="StageInput"/>), where prompts are inserted.</summary>
    public abstract FeatureSpec[] StageInputSpecs { get; }

    public abstract Tensor Stem(Tensor images);

    /// <summary>Maps the previous stage's feature (or the stem output for i = 0) to stage i's input.</summary>
    public virtual Tensor StageInput(int stage, Tensor previous) => previous;

    public abstract Tensor Stage(int stage, Tensor input);

    /// <summary>From the last stage's feature to the logits (pooling, norm, classifier).</summary>
    public abstract Tensor Head(Tensor lastFeature);

    /// <summary>The logits and the four stage features.</summary>
    public ModelOutput ForwardFeatures(Tensor images)
    {
        var h = Stem(images);
        var features = new Tensor[4];
        for (int i = 0; i < 4; i++)
        {
            h = Stage(i, StageInput(i, h));
            features[i] = h;
        }
        return new ModelOutput(Head(h), features);
    }

    public override Tensor Forward(Tensor images) => ForwardFeatures(images).Logits;
}
