using CrossDistill.Engine;
using CrossDistill.Engine.Nn;
using CrossDistill.Models.Transformers;

namespace CrossDistill.Models.Mlp;

/// <summary>
/// A ResMLP block (timm's ResBlock): x + drop_path(ls1 · linear_tokens(norm1(x)ᵀ)ᵀ), then
/// x + drop_path(ls2 · mlp_channels(norm2(x))), with Affine norms and per-channel layer scales
/// ls1, ls2 (initialised to <c>initValues</c>).
/// </summary>
public sealed class ResMlpBlock : Module<Tensor, Tensor>
{
    public Affine Norm1 { get; }
    public Linear LinearTokens { get; }
    public Affine Norm2 { get; }
    public FeedForward MlpChannels { get; }
    public Tensor LayerScale1 { get; }
    public Tensor LayerScale2 { get; }
    public float DropPathRate { get; }

    public ResMlpBlock(int dim, int tokens, int channelsHidden, float initValues, float dropRate, float dropPathRate)
    {
        Norm1 = RegisterModule("norm1", new Affine(dim));
        LinearTokens = RegisterModule("linear_tokens", new Linear(tokens, tokens));
        Norm2 = RegisterModule("norm2", new Affine(dim));
        MlpChannels = RegisterModule("mlp_channels", new FeedForward(dim, channelsHidden, dropRate, WeightNaming.Timm));
        LayerScale1 = RegisterParameter("ls1", Torch.Full(new[] { dim }, initValues));
        LayerScale2 = RegisterParameter("ls2", Torch.Full(new[] { dim }, initValues));
        DropPathRate = dropPathRate;
    }

    public override Tensor Forward(Tensor x)
    {
        var mixed = LinearTokens.Forward(Norm1.Forward(x).Transpose(1, 2)).Transpose(1, 2);
        x = x + F.DropPath(mixed * LayerScale1, DropPathRate, Training);
        return x + F.DropPath(MlpChannels.Forward(Norm2.Forward(x)) * LayerScale2, DropPathRate, Training);
    }
}
