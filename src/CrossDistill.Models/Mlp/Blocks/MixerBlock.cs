using CrossDistill.Engine;
using CrossDistill.Engine.Nn;
using CrossDistill.Models.Transformers;

namespace CrossDistill.Models.Mlp;

/// <summary>
/// An MLP-Mixer block (timm's MixerBlock): token mixing x + drop_path(mlp_tokens(norm1(x)ᵀ)ᵀ) across
/// the L tokens, then channel mixing x + drop_path(mlp_channels(norm2(x))). LayerNorm eps 1e-6.
/// </summary>
public sealed class MixerBlock : Module<Tensor, Tensor>
{
    public LayerNorm Norm1 { get; }
    public FeedForward MlpTokens { get; }
    public LayerNorm Norm2 { get; }
    public FeedForward MlpChannels { get; }
    public float DropPathRate { get; }

    public MixerBlock(int dim, int tokens, int tokensHidden, int channelsHidden, float dropRate, float dropPathRate)
    {
        Norm1 = RegisterModule("norm1", new LayerNorm(dim, 1e-6f));
        MlpTokens = RegisterModule("mlp_tokens", new FeedForward(tokens, tokensHidden, dropRate, WeightNaming.Timm));
        Norm2 = RegisterModule("norm2", new LayerNorm(dim, 1e-6f));
        MlpChannels = RegisterModule("mlp_channels", new FeedForward(dim, channelsHidden, dropRate, WeightNaming.Timm));
        DropPathRate = dropPathRate;
    }

    public override Tensor Forward(Tensor x)
    {
        var mixed = MlpTokens.Forward(Norm1.Forward(x).Transpose(1, 2)).Transpose(1, 2);
        x = x + F.DropPath(mixed, DropPathRate, Training);
        return x + F.DropPath(MlpChannels.Forward(Norm2.Forward(x)), DropPathRate, Training);
    }
}
