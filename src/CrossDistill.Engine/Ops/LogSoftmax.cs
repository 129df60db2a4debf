namespace CrossDistill.Engine
{
    public static partial class F
    {
        /// <summary>x - log Σexp(x) along <paramref name="dim"/>, computed as (x - max) - log Σexp(x - max) in one fused kernel.</summary>
        public static Tensor LogSoftmax(Tensor x, int dim) => SoftmaxAlongDim(x, dim, log: true);
    }

    public sealed partial class Tensor
    {
        public Tensor LogSoftmax(int dim) => F.LogSoftmax(this, dim);
    }
}
