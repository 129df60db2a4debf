namespace CrossDistill.Engine.Nn;

/// <summary>
/// Multi-head attention with PyTorch's parameter names (in_proj_weight [3E, E], in_proj_bias,
/// out_proj.weight/bias) and batch-first inputs (N, L, E).
/// </summary>
public sealed class MultiheadAttention : Module
{
    public int EmbedDim { get; }
    public int NumHeads { get; }
    public Tensor InProjWeight { get; }
    public Tensor? InProjBias { get; }
    public Linear OutProj { get; }

    public MultiheadAttention(int embedDim, int numHeads, bool bias = true)
    {
        if (embedDim % numHeads != 0) throw new ArgumentException($"MultiheadAttention: embed_dim {embedDim} is not divisible by num_heads {numHeads}.");
        EmbedDim = embedDim;
        NumHeads = numHeads;
        InProjWeight = RegisterParameter("in_proj_weight", Torch.Empty(3 * embedDim, embedDim));
        Init.XavierUniform_(InProjWeight);
        if (bias) InProjBias = RegisterParameter("in_proj_bias", Torch.Zeros(3 * embedDim));
        OutProj = RegisterModule("out_proj", new Linear(embedDim, embedDim, bias));
        if (OutProj.Bias is not null) Init.Zeros_(OutProj.Bias);
    }

    /// <summary>Attention of <paramref name="query"/> (N, L, E) over <paramref name="key"/>/<paramref name="value"/> (N, S, E).</summary>
    public Tensor Forward(Tensor query, Tensor key, Tensor value, Tensor? attnMask = null)
    {
        int n = query.Shape[0], l = query.Shape[1], s = key.Shape[1], h = NumHeads, d = EmbedDim / NumHeads;
        Tensor Project(Tensor x, int part, int len)
        {
            var w = InProjWeight.Narrow(0, part * EmbedDim, EmbedDim);
            var b = InProjBias?.Narrow(0, part * EmbedDim, EmbedDim);
            return F.Linear(x, w, b).Reshape(n, len, h, d).Transpose(1, 2);
        }
        var q = Project(query, 0, l);
        var k = Project(key, 1, s);
        var v = Project(value, 2, s);
        var attended = F.ScaledDotProductAttention(q, k, v, attnMask);
        return OutProj.Forward(attended.Transpose(1, 2).Reshape(n, l, EmbedDim));
    }

    public Tensor Forward(Tensor x) => Forward(x, x, x);
}
