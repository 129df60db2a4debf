using CrossDistill.Engine.Kernels;

namespace CrossDistill.Engine
{
    public static partial class F
    {
        /// <summary>
        /// Inverted dropout: each element is kept with probability 1 - p and scaled by 1/(1 - p), so
        /// the expectation is unchanged. Returns x itself when p = 0 or not training, and zeros when
        /// p = 1. The mask is drawn on the calling thread from <paramref name="generator"/>
        /// (<see cref="Generator.Default"/> when null), so a seed fixes it.
        /// </summary>
        public static unsafe Tensor Dropout(Tensor x, float p, bool training, Generator? generator = null)
        {
            if (!(p >= 0f && p <= 1f)) throw new ArgumentException($"Dropout: p must be in [0, 1], got {p} (input shape {ShapeUtil.Format(x.Shape)}).", nameof(p));
            if (!training || p == 0f) return x;
            if (p == 1f)
            {
                var zeros = Torch.ZerosLike(x);
                var shape = x.Shape;
                return Autograd.Record(zeros, "DropoutBackward", new[] { x }, g => new[] { Torch.Zeros(shape) });
            }
            var mask = Tensor.EmptyLike(x);
            FillKeepMask(mask.DataPtr, mask.Numel, 1f - p, 1f / (1f - p), generator ?? Generator.Default);
            var y = Elementwise.Zip(new MultiplyOperator(), x, mask);
            if (!Autograd.ShouldRecord(x))
            {
                mask.Dispose();
                return y;
            }
            return Autograd.Record(y, "DropoutBackward", new[] { x }, g => new[] { Elementwise.Zip(new MultiplyOperator(), g, mask) });
        }

        /// <summary>mask[i] = scale with probability keep, else 0; two 24-bit uniforms per 64-bit draw.</summary>
        private static unsafe void FillKeepMask(float* mask, int n, float keep, float scale, Generator generator)
        {
            const float Unit = 1f / (1 << 24);
            int i = 0;
            for (; i + 1 < n; i += 2)
            {
                ulong r = generator.NextUInt64();
                mask[i] = (r >> 40) * Unit < keep ? scale : 0f;
                mask[i + 1] = ((r >> 8) & 0xFFFFFF) * Unit < keep ? scale : 0f;
            }
            if (i < n) mask[i] = generator.NextFloat() < keep ? scale : 0f;
        }
    }
}
