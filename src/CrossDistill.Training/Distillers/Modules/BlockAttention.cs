using CrossDistill.Engine;
using CrossDistill.Engine.Nn;

namespace CrossDistill.Training.Distillers.Modules;

/// <summary>timm's ViT attention (qkv without bias by default, scale head_dim^−½, output projection), names qkv/proj.</summary>
public sealed class BlockAttention : Module<Tensor, Tensor>
{
    private readonly Linear _qkv;
    private readonly Linear _proj;

    public BlockAttention(int dim, int numHeads, bool qkvBias = false)
    {
        if (numHeads < 1 || dim % numHeads != 0) throw new ArgumentException($"BlockAttention: dim {dim} is not divisible by {numHeads} heads.");
        Dim = dim;
        NumHeads = numHeads;
        _qkv = RegisterModule("qkv", new Linear(dim, 3 * dim, qkvBias));
        _proj = RegisterModule("proj", new Linear(dim, dim));
    }

    public int Dim { get; }
    public int NumHeads { get; }

    public override Tensor Forward(Tensor x)
    {
        int n = x.Shape[0], tokens = x.Shape[1], headDim = Dim / NumHeads;
        var qkv = _qkv.Forward(x).Reshape(n, tokens, 3, NumHeads, headDim).Permute(2, 0, 3, 1, 4);
        var attended = F.ScaledDotProductAttention(qkv.Select(0, 0), qkv.Select(0, 1), qkv.Select(0, 2));
        return _proj.Forward(attended.Transpose(1, 2).Reshape(n, tokens, Dim));
    }
}
