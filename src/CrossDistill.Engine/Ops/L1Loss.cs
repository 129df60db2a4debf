using System.Runtime.Intrinsics;
using CrossDistill.Engine.Kernels;

namespace CrossDistill.Engine.Kernels
{
    /// <summary>|x − y|; the gradient is sign(x − y), 0 where they are equal.</summary>
    public struct L1LossOperator : IPointwiseLoss
    {
        public float Loss(float x, float y) => MathF.Abs(x - y);
        public Vector256<float> Loss(Vector256<float> x, Vector256<float> y) => Vector256.Abs(x - y);
        public Vector512<float> Loss(Vector512<float> x, Vector512<float> y) => Vector512.Abs(x - y);
        public float GradX(float x, float y) => Sign(x - y);
        public Vector256<float> GradX(Vector256<float> x, Vector256<float> y) => Sign(x - y);
        public Vector512<float> GradX(Vector512<float> x, Vector512<float> y) => Sign(x - y);
        public float GradY(float x, float y) => Sign(y - x);
        public Vector256<float> GradY(Vector256<float> x, Vector256<float> y) => Sign(y - x);
        public Vector512<float> GradY(Vector512<float> x, Vector512<float> y) => Sign(y - x);

        internal static float Sign(float d) => d > 0f ? 1f : d < 0f ? -1f : 0f;

        internal static Vector256<float> Sign(Vector256<float> d)
            => (Vector256.GreaterThan(d, Vector256<float>.Zero) & Vector256<float>.One) - (Vector256.LessThan(d, Vector256<float>.Zero) & Vector256<float>.One);

        internal static Vector512<float> Sign(Vector512<float> d)
            => (Vector512.GreaterThan(d, Vector512<float>.Zero) & Vector512<float>.One) - (Vector512.LessThan(d, Vector512<float>.Zero) & Vector512<float>.One);
    }
}

namespace CrossDistill.Engine
{
    public static partial class F
    {
        /// <summary>torch.nn.functional.l1_loss: |a − b|, broadcast, then reduced ("mean", "sum" or "none").</summary>
        public static Tensor L1Loss(Tensor a, Tensor b, string reduction = "mean")
            => PointwiseLoss.Apply(new L1LossOperator(), a, b, LossReductions.Parse(reduction, "L1Loss"), "L1Loss");
    }
}
