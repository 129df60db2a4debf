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
        public float GradY(float x, float y) => -Grad(x - y);
        public Vector256<float> GradY(Vector256<float> x, Vector256<float> y) => -Grad(x - y);
        public Vector512<float> GradY(Vector512<float> x, Vector512<float> y) => -Grad(x - y);

        private float Grad(float d) => MathF.Abs(d) < Beta ? d / Beta : L1LossOperator.Sign(d);

        private Vector256<float> Grad(Vector256<float> d)
        {
            var beta = Vector256.Create(Beta);
            return Vector256.ConditionalSelect(Vector256.LessThan(Vector256.Abs(d), beta), d / beta, L1LossOperator.Sign(d));
        }

        private Vector512<float> Grad(Vector512<float> d)
        {
            var beta = Vector512.Create(Beta);
            return Vector512.ConditionalSelect(Vector512.LessThan(Vector512.Abs(d), beta), d / beta, L1LossOperator.Sign(d));
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
