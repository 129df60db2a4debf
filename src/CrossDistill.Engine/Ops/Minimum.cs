using System.Runtime.Intrinsics;
using CrossDistill.Engine.Kernels;

namespace CrossDistill.Engine.Kernels
{
    /// <summary>IEEE 754-2019 minimum: NaN in either input gives NaN, as torch.minimum.</summary>
    public struct MinimumOperator : IBinaryOperator
    {
        public float Invoke(float x, float y) => MathF.Min(x, y);
        public Vector256<float> Invoke(Vector256<float> x, Vector256<float> y) => Vector256.Min(x, y);
        public Vector512<float> Invoke(Vector512<float> x, Vector512<float> y) => Vector512.Min(x, y);
    }
}

namespace CrossDistill.Engine
{
    public static partial class Torch
    {
        /// <summary>Elementwise minimum with broadcasting; on ties each input gets half the gradient.</summary>
        public static Tensor Minimum(Tensor a, Tensor b) => Extremum("Minimum", new MinimumOperator(), a, b, larger: false);
    }

    public sealed partial class Tensor
    {
        public Tensor Minimum(Tensor other) => Torch.Minimum(this, other);
    }
}
