using System.Runtime.Intrinsics;
using CrossDistill.Engine.Kernels;

namespace CrossDistill.Engine.Kernels
{
    /// <summary>0.5·d²/β where |d| &lt; β, else |d| − 0.5·β, with d = x − y; β = 0 gives the L1 loss.</summary>
    public struct SmoothL1LossOperator : IPointwiseLoss
    {
        public float Beta;

        public SmoothL1LossOperator(float beta) => Beta = beta;

        public float Loss(float x, float y)
        {
            float z = MathF.Abs(x - y);
            return z < Beta ? 0.5f * z * z / Beta : z - 0.5f * Beta;
        }

        public Vector256<float> Loss(Vector256<float> x, Vector256<float> y)
        {
            var z = Vector256.Abs(x - y);
            var beta = Vector256.Create(Beta);
            return Vector256.ConditionalSelect(Vector256.LessThan(z, beta), z * z * 0.5f / beta, z - beta * 0.5f);
        }

        public Vector512<float> Loss(Vector512<float> x, Vector512<float> y)
        {
            var z = Vector512.Abs(x - y);
            var beta = Vector512.Create(Beta);
            return Vector512.ConditionalSelect(Vector512.LessThan(z, beta), z * z * 0.5f / beta, z - beta * 0.5f);
        }

        public float GradX(float x, float y) => Grad(x - y);
        public Vector256<float> GradX(Vector256<float> x, Vector256<float> y) => Grad(x - y);
        public Vector512<float> GradX(Vector512<float> x, Vector512<float> y) => Grad(x - y);
        // PyTorch differentiates the target with the operands swapped, which differs from −∂/∂x only at d = 0 with β = 0.
        public float GradY(float x, float y) => Grad(y - x);
        public Vector256<float> GradY(Vector256<float> x, Vector256<float> y) => Grad(y - x);
        public Vector512<float> GradY(Vector512<float> x, Vector512<float> y) => Grad(y - x);

        // PyTorch's branch order: d ≤ −β gives −1 first, so with β = 0 the gradient at d = 0 is −1.
        private float Grad(float d) => d <= -Beta ? -1f : d >= Beta ? 1f : d / Beta;

        private Vector256<float> Grad(Vector256<float> d)
        {
            var beta = Vector256.Create(Beta);
            var outer = Vector256.ConditionalSelect(Vector256.LessThanOrEqual(d, -beta), -Vector256<float>.One, Vector256<float>.One);
            return Vector256.ConditionalSelect(Vector256.LessThanOrEqual(d, -beta) | Vector256.GreaterThanOrEqual(d, beta), outer, d / beta);
        }

        private Vector512<float> Grad(Vector512<float> d)
        {
            var beta = Vector512.Create(Beta);
            var outer = Vector512.ConditionalSelect(Vector512.LessThanOrEqual(d, -beta), -Vector512<float>.One, Vector512<float>.One);
            return Vector512.ConditionalSelect(Vector512.LessThanOrEqual(d, -beta) | Vector512.GreaterThanOrEqual(d, beta), outer, d / beta);
        }
    }
}

namespace CrossDistill.Engine
{
    public static partial class F
    {
        /// <summary>torch.nn.functional.smooth_l1_loss: quadratic below <paramref name="beta"/>, linear above; broadcast, then reduced.</summary>
        public static Tensor SmoothL1Loss(Tensor a, Tensor b, string reduction = "mean", float beta = 1f)
        {
            if (!(beta >= 0f)) throw new ArgumentException($"SmoothL1Loss: beta must be non-negative, got {beta}.", nameof(beta));
            return PointwiseLoss.Apply(new SmoothL1LossOperator(beta), a, b, LossReductions.Parse(reduction, "SmoothL1Loss"), "SmoothL1Loss");
        }
    }
}
