namespace CrossDistill.Engine.Nn;

/// <summary>A lookup table of <c>numEmbeddings</c> vectors, as torch.nn.Embedding (initialised N(0, 1)).</summary>
public sealed class Embedding : Module<Tensor, Tensor>
{
    public Tensor Weight { get; }

    public Embedding(int numEmbeddings, int embeddingDim)
    {
        Weight = RegisterParameter("weight", Torch.Randn(new[] { numEmbeddings, embeddingDim }));
    }

    public override Tensor Forward(Tensor indices) => F.Embedding(indices, Weight);
}
