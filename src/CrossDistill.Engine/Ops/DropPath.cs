namespace CrossDistill.Engine
{
    public static partial class F
    {
        /// <summary>
        /// Stochastic depth as timm's drop_path: each sample (index along dim 0) keeps its whole
        /// residual branch with probability 1 - p, scaled by 1/(1 - p) when
        /// <paramref name="scaleByKeep"/> (and 1 - p &gt; 0). Returns x itself when p = 0 or not training.
        /// </summary>
        public static unsafe Tensor DropPath(Tensor x, float p, bool training, bool scaleByKeep = true, Generator? generator = null)
        {
            if (!(p >= 0f && p <= 1f)) throw new ArgumentException($"DropPath: p must be in [0, 1], got {p} (input shape {ShapeUtil.Format(x.Shape)}).", nameof(p));
            if (!training || p == 0f) return x;
            if (x.Rank == 0) throw new ArgumentException("DropPath: needs a batch dim; got a 0-d tensor.", nameof(x));
            float keep = 1f - p;
            float scale = keep > 0f && scaleByKeep ? 1f / keep : 1f;
            var shape = new int[x.Rank];
            Array.Fill(shape, 1);
            shape[0] = x.Shape[0];
            var mask = Tensor.Empty(shape);
            var g = generator ?? Generator.Default;
            float* m = mask.DataPtr;
            for (int i = 0; i < shape[0]; i++) m[i] = g.NextDouble() < keep ? scale : 0f;
            var y = Torch.Mul(x, mask);
            // When recorded, the product's backward holds the mask; otherwise it is done with.
            if (!Autograd.ShouldRecord(x)) mask.Dispose();
            return y;
        }
    }
}
