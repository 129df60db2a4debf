namespace CrossDistill.Engine.Nn;

/// <summary>Normalises over the trailing <c>normalizedShape</c> dims, as torch.nn.LayerNorm.</summary>
public sealed class LayerNorm : Module<Tensor, Tensor>
{
    public int[] NormalizedShape { get; }
    public float Eps { get; }
    public Tensor? Weight { get; }
    public Tensor? Bias { get; }

    public LayerNorm(int normalizedShape, float eps = 1e-5f, bool elementwiseAffine = true) : this(new[] { normalizedShape }, eps, elementwiseAffine) { }

    public LayerNorm(int[] normalizedShape, float eps = 1e-5f, bool elementwiseAffine = true)
    {
        NormalizedShape = normalizedShape;
        Eps = eps;
        if (elementwiseAffine)
        {
            Weight = RegisterParameter("weight", Torch.Ones(normalizedShape));
            Bias = RegisterParameter("bias", Torch.Zeros(normalizedShape));
        }
    }

    public override Tensor Forward(Tensor x) => F.LayerNorm(x, NormalizedShape, Weight, Bias, Eps);
}

/// <summary>Normalises channel groups, as torch.nn.GroupNorm.</summary>
public sealed class GroupNorm : Module<Tensor, Tensor>
{
    public int NumGroups { get; }
    public float Eps { get; }
    public Tensor? Weight { get; }
    public Tensor? Bias { get; }

    public GroupNorm(int numGroups, int numChannels, float eps = 1e-5f, bool affine = true)
    {
        if (numChannels % numGroups != 0) throw new ArgumentException($"GroupNorm: {numChannels} channels are not divisible into {numGroups} groups.");
        NumGroups = numGroups;
        Eps = eps;
        if (affine)
        {
            Weight = RegisterParameter("weight", Torch.Ones(numChannels));
            Bias = RegisterParameter("bias", Torch.Zeros(numChannels));
        }
    }

    public override Tensor Forward(Tensor x) => F.GroupNorm(x, NumGroups, Weight, Bias, Eps);
}
