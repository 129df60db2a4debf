using System.Runtime.Intrinsics;
using CrossDistill.Engine.Kernels;

namespace CrossDistill.Engine.Kernels
{
    /// <summary>Minimum reduction that propagates NaN (IEEE minimum), as torch.min/amin.</summary>
    public struct NanMinReduce : IReduceOperator
    {
        public float Identity => float.PositiveInfinity;
        public float Invoke(float x, float y) => MathF.Min(x, y);
        public Vector512<float> Invoke(Vector512<float> x, Vector512<float> y) => Vector512.Min(x, y);
        public float Horizontal(Vector512<float> x)
        {
            var h = Vector256.Min(x.GetLower(), x.GetUpper());
            float m = h[0];
            for (int i = 1; i < 8; i++) m = MathF.Min(m, h[i]);
            return m;
        }
    }
}

namespace CrossDistill.Engine
{
    public static partial class Torch
    {
        /// <summary>The smallest element (NaN if any is NaN) as a 0-d tensor; the gradient is shared evenly among all elements equal to it.</summary>
        public static Tensor Min(Tensor x) => Extreme(new NanMinReduce(), x, "Min");

        /// <summary>Smallest values along <paramref name="dim"/> and the (first) index of each; the gradient goes to that index.</summary>
        public static (Tensor Values, Tensor Indices) Min(Tensor x, int dim, bool keepDim = false)
        {
            var (values, indices) = SelectAlongDim(new ArgMinComparer(), "Min", x, dim, keepDim, withValues: true);
            return (values!, indices);
        }
    }

    public sealed partial class Tensor
    {
        public Tensor Min() => Torch.Min(this);
        public (Tensor Values, Tensor Indices) Min(int dim, bool keepDim = false) => Torch.Min(this, dim, keepDim);
    }
}
