using CrossDistill.Models;

namespace CrossDistill.Training.Tests.Support;

/// <summary>A "model" whose logits are its input (N, C): lets a test feed exact logits through a distiller.</summary>
public sealed class IdentityLogits : VisionModel
{
    private readonly int _classes;

    public IdentityLogits(int classes) : base(new ModelConfig { NumClasses = classes }) => _classes = classes;

    public override string ArchitectureName => "identity_logits";
    public override bool IsTokenModel => false;
    public override int FeatureDim => _classes;
    public override FeatureSpec[] StageOutputSpecs => Enumerable.Repeat((FeatureSpec)new TokenSpec(1, _classes), 4).ToArray();
    public override FeatureSpec[] StageInputSpecs => StageOutputSpecs;
    public override Tensor Stem(Tensor images) => images;
    public override Tensor Stage(int stage, Tensor input) => input;
    public override Tensor Head(Tensor lastFeature) => lastFeature;
}

/// <summary>A frozen "teacher" that answers every batch with the same stored logits.</summary>
public sealed class FixedLogits : VisionModel
{
    private readonly Tensor _logits;

    public FixedLogits(Tensor logits) : base(new ModelConfig { NumClasses = logits.Shape[1] }) => _logits = logits;

    public override string ArchitectureName => "fixed_logits";
    public override bool IsTokenModel => false;
    public override int FeatureDim => _logits.Shape[1];
    public override FeatureSpec[] StageOutputSpecs => Enumerable.Repeat((FeatureSpec)new TokenSpec(1, FeatureDim), 4).ToArray();
    public override FeatureSpec[] StageInputSpecs => StageOutputSpecs;
    public override Tensor Stem(Tensor images) => images;
    public override Tensor Stage(int stage, Tensor input) => input;
    public override Tensor Head(Tensor lastFeature) => _logits;
}
