using CrossDistill.Engine;
using CrossDistill.Engine.Nn;

namespace CrossDistill.Models.Transformers;

/// <summary>
/// Multi-head self-attention over a token sequence (N, L, D): one fused q/k/v projection, scaled
/// dot-product attention per head, an output projection and dropout. timm registers the projections
/// as attn.qkv and attn.proj; torchvision's nn.MultiheadAttention holds in_proj_weight and
/// in_proj_bias directly and names the output projection out_proj. Both lay the fused weight out as
/// [q; k; v] with heads in consecutive column blocks, so the same tensors serve both.
/// </summary>
public sealed class SelfAttention : Module<Tensor, Tensor>
{
    public int Dim { get; }
    public int NumHeads { get; }
    public float DropRate { get; }
    public Tensor QkvWeight { get; }
    public Tensor? QkvBias { get; }
    public Linear Proj { get; }

    public SelfAttention(int dim, int numHeads, float dropRate, WeightNaming naming, bool qkvBias = true)
    {
        if (numHeads < 1 || dim % numHeads != 0)
            throw new ArgumentException($"SelfAttention: embed dim {dim} is not divisible by {numHeads} heads.");
        (Dim, NumHeads, DropRate) = (dim, numHeads, dropRate);
        Proj = new Linear(dim, dim);
        if (naming == WeightNaming.Timm)
        {
            var qkv = RegisterModule("qkv", new Linear(dim, 3 * dim, qkvBias));
            QkvWeight = qkv.Weight;
            QkvBias = qkv.Bias;
            RegisterModule("proj", Proj);
        }
        else
        {
            if (!qkvBias) throw new ArgumentException("SelfAttention: torchvision's attention always has in_proj_bias; qkv_bias = false needs timm naming.");
            QkvWeight = RegisterParameter("in_proj_weight", Torch.Empty(3 * dim, dim));
            QkvBias = RegisterParameter("in_proj_bias", Torch.Zeros(3 * dim));
            Init.XavierUniform_(QkvWeight);
            RegisterModule("out_proj", Proj);
        }
    }

    public override Tensor Forward(Tensor x)
    {
        if (x.Rank != 3 || x.Shape[2] != Dim)
            throw new ArgumentException($"SelfAttention: expected tokens (N, L, {Dim}), got {ShapeUtil.Format(x.Shape)}.");
        int n = x.Shape[0], l = x.Shape[1], headDim = Dim / NumHeads;
        // One copy to (3, N, heads, L, headDim) gives q, k and v evenly spaced batch matrices, which the
        // batched GEMMs of attention split across threads; strided views would run matrix by matrix.
        var projected = F.Linear(x, QkvWeight, QkvBias);
        var split = projected.View(n, l, 3, NumHeads, headDim);
        var heads = split.Permute(2, 0, 3, 1, 4);
        var qkv = heads.Contiguous();
        // Attention's backward reads the copy; no backward reads the projection or its views.
        Intermediates.Release(projected, split, heads);
        // One unbind node hands the three gradients back as a single concatenation; selecting q, k
        // and v one by one would build a zero-padded full-size gradient for each and sum them.
        var parts = qkv.Unbind(0);
        var attended = F.ScaledDotProductAttention(parts[0], parts[1], parts[2]);
        var transposed = attended.Transpose(1, 2);
        var merged = transposed.Reshape(n, l, Dim);
        // The output projection's backward reads the merged copy, not attention's output.
        Intermediates.Release(attended, transposed);
        var output = Proj.Forward(merged);
        var dropped = F.Dropout(output, DropRate, Training);
        // Dropout's backward reads only its mask.
        if (!ReferenceEquals(dropped, output)) output.ReleaseData();
        return dropped;
    }
}
