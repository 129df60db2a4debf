using CrossDistill.Engine;
using CrossDistill.Engine.Nn;

namespace CrossDistill.Training.Distillers.Modules;

/// <summary>
/// timm 0.6's pre-norm transformer block with its defaults as OFA-KD builds it (Block(dim, num_heads)):
/// x + attn(norm1(x)), then x + mlp(norm2(x)); LayerNorm eps 1e-5, MLP ratio 4, no qkv bias, no
/// layer scale, no drop path. Names norm1, attn.qkv, attn.proj, norm2, mlp.fc1, mlp.fc2.
/// </summary>
public sealed class ViTBlock : Module<Tensor, Tensor>
{
    private readonly LayerNorm _norm1;
    private readonly BlockAttention _attn;
    private readonly LayerNorm _norm2;
    private readonly BlockMlp _mlp;

    public ViTBlock(int dim, int numHeads, float mlpRatio = 4f)
    {
        _norm1 = RegisterModule("norm1", new LayerNorm(dim));
        _attn = RegisterModule("attn", new BlockAttention(dim, numHeads));
        _norm2 = RegisterModule("norm2", new LayerNorm(dim));
        _mlp = RegisterModule("mlp", new BlockMlp(dim, (int)(dim * mlpRatio)));
    }

    public override Tensor Forward(Tensor x)
    {
        x = x + _attn.Forward(_norm1.Forward(x));
        return x + _mlp.Forward(_norm2.Forward(x));
    }
}
