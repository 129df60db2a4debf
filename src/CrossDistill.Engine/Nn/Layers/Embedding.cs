namespace CrossDistill.Engine.Nn;

/// <summary>
/// A lookup table of <c>numEmbeddings</c> vectors, as torch.nn.Embedding (initialised N(0, 1)).
/// padding_idx, max_norm and sparse gradients are not supported.
/// </summary>
public sealed class Embedding : Module<Tensor, Tensor>
{
    public Tensor Weight { get; }
    public int NumEmbeddings { get; }
    public int EmbeddingDim { get; }

    public Embedding(int numEmbeddings, int embeddingDim)
    {
        if (numEmbeddings < 0 || embeddingDim < 0)
            throw new ArgumentException($"Embedding: the table size ({numEmbeddings}, {embeddingDim}) must not be negative.");
        (NumEmbeddings, EmbeddingDim) = (numEmbeddings, embeddingDim);
        Weight = RegisterParameter("weight", Init.Normal_(Torch.Empty(numEmbeddings, embeddingDim)));
    }

    public override Tensor Forward(Tensor indices) => F.Embedding(indices, Weight);
}
