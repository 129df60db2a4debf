using CrossDistill.Engine;
using CrossDistill.Engine.Nn;

namespace CrossDistill.Models.Transformers;

/// <summary>
/// A pre-norm transformer block: x + drop_path(attn(norm1(x))), then x + drop_path(mlp(norm2(x))),
/// with LayerNorm eps 1e-6 as timm's ViT and torchvision's EncoderBlock (timm's Block defaults, as
/// OFA-KD's branches build it, are eps 1e-5 and no qkv bias). timm names the parts norm1, attn,
/// norm2, mlp; torchvision ln_1, self_attention, ln_2, mlp.
/// </summary>
public sealed class EncoderBlock : Module<Tensor, Tensor>
{
    public LayerNorm Norm1 { get; }
    public SelfAttention Attention { get; }
    public LayerNorm Norm2 { get; }
    public FeedForward Mlp { get; }
    public float DropPathRate { get; }

    public EncoderBlock(int dim, int numHeads, int mlpHidden, float dropRate, float dropPathRate, WeightNaming naming,
        float layerNormEps = 1e-6f, bool qkvBias = true)
    {
        bool timm = naming == WeightNaming.Timm;
        Norm1 = RegisterModule(timm ? "norm1" : "ln_1", new LayerNorm(dim, layerNormEps));
        Attention = RegisterModule(timm ? "attn" : "self_attention", new SelfAttention(dim, numHeads, dropRate, naming, qkvBias));
        Norm2 = RegisterModule(timm ? "norm2" : "ln_2", new LayerNorm(dim, layerNormEps));
        Mlp = RegisterModule("mlp", new FeedForward(dim, mlpHidden, dropRate, naming));
        DropPathRate = dropPathRate;
    }

    public override Tensor Forward(Tensor x)
    {
        x = AddBranch(x, Attention.Forward(Norm1.Forward(x)));
        return AddBranch(x, Mlp.Forward(Norm2.Forward(x)));
    }

    /// <summary>
    /// x + drop_path(branch). The sum's backward and drop path's (which reads only its mask) need
    /// neither the branch's output nor the dropped copy, so both go once the sum exists.
    /// </summary>
    private Tensor AddBranch(Tensor x, Tensor branch)
    {
        var dropped = F.DropPath(branch, DropPathRate, Training);
        var sum = x + dropped;
        Intermediates.Release(branch, dropped);
        return sum;
    }
}
