using System.Runtime.Intrinsics;
using CrossDistill.Engine.Kernels;

namespace CrossDistill.Engine.Kernels
{
    /// <summary>g/std, and 0 where std = 0 (PyTorch masks the infinite slope of √ at 0).</summary>
    public struct StdGradientOperator : IBinaryOperator
    {
        public float Invoke(float g, float std) => std == 0f ? 0f : g / std;
        public Vector256<float> Invoke(Vector256<float> g, Vector256<float> std)
            => Vector256.ConditionalSelect(Vector256.Equals(std, Vector256<float>.Zero), Vector256<float>.Zero, g / std);
        public Vector512<float> Invoke(Vector512<float> g, Vector512<float> std)
            => Vector512.ConditionalSelect(Vector512.Equals(std, Vector512<float>.Zero), Vector512<float>.Zero, g / std);
    }
}

namespace CrossDistill.Engine
{
    public static partial class Torch
    {
        /// <summary>Standard deviation: the square root of <see cref="Var(Tensor, int[], int, bool)"/>.</summary>
        public static Tensor Std(Tensor x, int[]? dims = null, int correction = 1, bool keepDim = false)
            => Moments(x, dims, correction, keepDim, sqrt: true);

        public static Tensor Std(Tensor x, int dim, int correction = 1, bool keepDim = false) => Std(x, new[] { dim }, correction, keepDim);
    }

    public sealed partial class Tensor
    {
        public Tensor Std(int[]? dims = null, int correction = 1, bool keepDim = false) => Torch.Std(this, dims, correction, keepDim);
        public Tensor Std(int dim, int correction = 1, bool keepDim = false) => Torch.Std(this, dim, correction, keepDim);
    }
}
