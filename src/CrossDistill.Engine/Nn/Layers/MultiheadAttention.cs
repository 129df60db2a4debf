namespace CrossDistill.Engine.Nn;

/// <summary>
/// Multi-head attention as torch.nn.MultiheadAttention(embed_dim, num_heads, bias,
/// batch_first=True) with PyTorch's parameter names (in_proj_weight [3E, E], in_proj_bias [3E],
/// out_proj.weight/bias) and initialisation (xavier_uniform in-projection, zero biases, the
/// out-projection weight as nn.Linear's). Inputs are batch-first (N, L, E); the forward returns the
/// attention output only (need_weights=False). Not supported: dropout, separate key/value
/// dimensions (kdim/vdim), bias_k/bias_v, add_zero_attn, key_padding_mask and boolean masks
/// (give an additive float mask).
/// </summary>
public sealed class MultiheadAttention : Module<Tensor, Tensor>
{
    public int EmbedDim { get; }
    public int NumHeads { get; }
    public int HeadDim => EmbedDim / NumHeads;
    public Tensor InProjWeight { get; }
    public Tensor? InProjBias { get; }
    public Linear OutProj { get; }

    public MultiheadAttention(int embedDim, int numHeads, bool bias = true)
    {
        if (embedDim < 1 || numHeads < 1 || embedDim % numHeads != 0)
            throw new ArgumentException($"MultiheadAttention: embed_dim {embedDim} must be a positive multiple of num_heads {numHeads}.");
        EmbedDim = embedDim;
        NumHeads = numHeads;
        InProjWeight = RegisterParameter("in_proj_weight", Torch.Empty(3 * embedDim, embedDim));
        Init.XavierUniform_(InProjWeight);
        if (bias) InProjBias = RegisterParameter("in_proj_bias", Torch.Zeros(3 * embedDim));
        OutProj = RegisterModule("out_proj", new Linear(embedDim, embedDim, bias));
        if (OutProj.Bias is not null) Init.Zeros_(OutProj.Bias);
    }

    /// <summary>
    /// Attention of <paramref name="query"/> (N, L, E) over <paramref name="key"/> and
    /// <paramref name="value"/> (N, S, E). <paramref name="attnMask"/> is added to the attention
    /// logits: (L, S), or (N·heads, L, S) as in PyTorch.
    /// </summary>
    public Tensor Forward(Tensor query, Tensor key, Tensor value, Tensor? attnMask = null)
    {
        CheckInputs(query, key, value);
        int n = query.Shape[0], l = query.Shape[1], s = key.Shape[1];
        Tensor q, k, v;
        if (ReferenceEquals(query, key) && ReferenceEquals(key, value))
        {
            // Self-attention: one projection to (N, L, 3, heads, d), split along the 3.
            var qkv = F.Linear(query, InProjWeight, InProjBias).Reshape(n, l, 3, NumHeads, HeadDim).Permute(2, 0, 3, 1, 4);
            var parts = qkv.Chunk(3, 0);
            (q, k, v) = (parts[0].Squeeze(0), parts[1].Squeeze(0), parts[2].Squeeze(0));
        }
        else
        {
            var weights = InProjWeight.Chunk(3, 0);
            var biases = InProjBias?.Chunk(3, 0);
            q = Heads(F.Linear(query, weights[0], biases?[0]), n, l);
            k = Heads(F.Linear(key, weights[1], biases?[1]), n, s);
            v = Heads(F.Linear(value, weights[2], biases?[2]), n, s);
        }
        var attended = F.ScaledDotProductAttention(q, k, v, HeadMask(attnMask, n, l, s));
        return OutProj.Forward(attended.Transpose(1, 2).Reshape(n, l, EmbedDim));
    }

    /// <summary>Self-attention over <paramref name="x"/> (N, L, E).</summary>
    public override Tensor Forward(Tensor x) => Forward(x, x, x);

    private Tensor Heads(Tensor projected, int n, int len) => projected.Reshape(n, len, NumHeads, HeadDim).Transpose(1, 2);

    /// <summary>A mask broadcastable to the (N, heads, L, S) logits.</summary>
    private Tensor? HeadMask(Tensor? mask, int n, int l, int s)
    {
        if (mask is null) return null;
        if (mask.Rank == 2 && mask.Shape[0] == l && mask.Shape[1] == s) return mask;
        if (mask.Rank == 3 && mask.Shape[0] == n * NumHeads && mask.Shape[1] == l && mask.Shape[2] == s) return mask.Reshape(n, NumHeads, l, s);
        throw new ArgumentException($"MultiheadAttention: attnMask must be ({l}, {s}) or ({n * NumHeads}, {l}, {s}), got {ShapeUtil.Format(mask.Shape)}.", nameof(mask));
    }

    private void CheckInputs(Tensor query, Tensor key, Tensor value)
    {
        string shapes = $"query {ShapeUtil.Format(query.Shape)}, key {ShapeUtil.Format(key.Shape)}, value {ShapeUtil.Format(value.Shape)}";
        if (query.Rank != 3 || key.Rank != 3 || value.Rank != 3)
            throw new ArgumentException($"MultiheadAttention: expected batch-first (N, L, E) inputs, got {shapes}.");
        if (query.Shape[2] != EmbedDim || key.Shape[2] != EmbedDim || value.Shape[2] != EmbedDim)
            throw new ArgumentException($"MultiheadAttention: inputs must end in embed_dim {EmbedDim}, got {shapes}.");
        if (key.Shape[0] != query.Shape[0] || value.Shape[0] != query.Shape[0] || key.Shape[1] != value.Shape[1])
            throw new ArgumentException($"MultiheadAttention: batch sizes must agree and key and value must have the same length, got {shapes}.");
    }
}
