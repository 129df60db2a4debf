using System.Runtime.Intrinsics;
using CrossDistill.Engine.Kernels;

namespace CrossDistill.Engine.Kernels
{
    /// <summary>
    /// KL divergence term for a log-probability x and a probability y: y·log y − y·x, with y·log y
    /// taken as 0 where y = 0 (xlogy). Its derivative in y, log y + y/y − x, is NaN where y = 0, as
    /// PyTorch's is.
    /// </summary>
    public struct KlDivOperator : IPointwiseLoss
    {
        public float Loss(float x, float y) => (y == 0f ? 0f : y * MathF.Log(y)) - y * x;

        public Vector256<float> Loss(Vector256<float> x, Vector256<float> y)
            => Vector256.ConditionalSelect(Vector256.Equals(y, Vector256<float>.Zero), Vector256<float>.Zero, y * Vector256.Log(y)) - y * x;

        public Vector512<float> Loss(Vector512<float> x, Vector512<float> y)
            => Vector512.ConditionalSelect(Vector512.Equals(y, Vector512<float>.Zero), Vector512<float>.Zero, y * Vector512.Log(y)) - y * x;

        public float GradX(float x, float y) => -y;
        public Vector256<float> GradX(Vector256<float> x, Vector256<float> y) => -y;
        public Vector512<float> GradX(Vector512<float> x, Vector512<float> y) => -y;
        public float GradY(float x, float y) => MathF.Log(y) + y / y - x;
        public Vector256<float> GradY(Vector256<float> x, Vector256<float> y) => Vector256.Log(y) + y / y - x;
        public Vector512<float> GradY(Vector512<float> x, Vector512<float> y) => Vector512.Log(y) + y / y - x;
    }

    /// <summary>KL divergence term for a log-probability x and a log-probability target y: e^y·(y − x).</summary>
    public struct KlDivLogTargetOperator : IPointwiseLoss
    {
        public float Loss(float x, float y) => MathF.Exp(y) * (y - x);
        public Vector256<float> Loss(Vector256<float> x, Vector256<float> y) => Vector256.Exp(y) * (y - x);
        public Vector512<float> Loss(Vector512<float> x, Vector512<float> y) => Vector512.Exp(y) * (y - x);
        public float GradX(float x, float y) => -MathF.Exp(y);
        public Vector256<float> GradX(Vector256<float> x, Vector256<float> y) => -Vector256.Exp(y);
        public Vector512<float> GradX(Vector512<float> x, Vector512<float> y) => -Vector512.Exp(y);
        public float GradY(float x, float y) => MathF.Exp(y) * (y - x + 1f);
        public Vector256<float> GradY(Vector256<float> x, Vector256<float> y) => Vector256.Exp(y) * (y - x + Vector256<float>.One);
        public Vector512<float> GradY(Vector512<float> x, Vector512<float> y) => Vector512.Exp(y) * (y - x + Vector512<float>.One);
    }
}

namespace CrossDistill.Engine
{
    public static partial class F
    {
        /// <summary>
        /// torch.nn.functional.kl_div: <paramref name="input"/> holds log-probabilities and
        /// <paramref name="target"/> probabilities (log-probabilities when <paramref name="logTarget"/>);
        /// the pointwise term is target·(log target − input). Reductions: "mean" (over every element),
        /// "batchmean" (the sum over the batch size, the true KL divergence), "sum" and "none".
        /// </summary>
        public static Tensor KlDiv(Tensor input, Tensor target, string reduction = "mean", bool logTarget = false)
        {
            var r = LossReductions.Parse(reduction, "KlDiv", allowBatchMean: true);
            return logTarget
                ? PointwiseLoss.Apply(new KlDivLogTargetOperator(), input, target, r, "KlDiv")
                : PointwiseLoss.Apply(new KlDivOperator(), input, target, r, "KlDiv");
        }
    }
}
