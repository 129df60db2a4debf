namespace CrossDistill.Engine.Nn;

/// <summary>
/// y = x·Wᵀ + b, as torch.nn.Linear (weight [out, in]). Initialised as PyTorch does:
/// kaiming_uniform(a = √5), i.e. U(−1/√in, 1/√in), for the weight and the same range for the bias.
/// </summary>
public sealed class Linear : Module<Tensor, Tensor>
{
    public Tensor Weight { get; }
    public Tensor? Bias { get; }
    public int InFeatures { get; }
    public int OutFeatures { get; }

    public Linear(int inFeatures, int outFeatures, bool bias = true)
    {
        InFeatures = inFeatures;
        OutFeatures = outFeatures;
        Weight = RegisterParameter("weight", Torch.Empty(outFeatures, inFeatures));
        if (bias) Bias = RegisterParameter("bias", Torch.Empty(outFeatures));
        Init.DefaultLinearOrConv(Weight, Bias);
    }

    public override Tensor Forward(Tensor x) => F.Linear(x, Weight, Bias);
}
