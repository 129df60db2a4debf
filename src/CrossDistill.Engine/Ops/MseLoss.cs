using System.Runtime.Intrinsics;
using CrossDistill.Engine.Kernels;

namespace CrossDistill.Engine.Kernels
{
    /// <summary>(x − y)².</summary>
    public struct MseLossOperator : IPointwiseLoss
    {
        public float Loss(float x, float y) => (x - y) * (x - y);
        public Vector256<float> Loss(Vector256<float> x, Vector256<float> y) { var d = x - y; return d * d; }
        public Vector512<float> Loss(Vector512<float> x, Vector512<float> y) { var d = x - y; return d * d; }
        public float GradX(float x, float y) => 2f * (x - y);
        public Vector256<float> GradX(Vector256<float> x, Vector256<float> y) => (x - y) * 2f;
        public Vector512<float> GradX(Vector512<float> x, Vector512<float> y) => (x - y) * 2f;
        public float GradY(float x, float y) => 2f * (y - x);
        public Vector256<float> GradY(Vector256<float> x, Vector256<float> y) => (y - x) * 2f;
        public Vector512<float> GradY(Vector512<float> x, Vector512<float> y) => (y - x) * 2f;
    }
}

namespace CrossDistill.Engine
{
    public static partial class F
    {
        /// <summary>torch.nn.functional.mse_loss: (a − b)², broadcast, then reduced ("mean", "sum" or "none").</summary>
        public static Tensor MseLoss(Tensor a, Tensor b, string reduction = "mean")
            => PointwiseLoss.Apply(new MseLossOperator(), a, b, LossReductions.Parse(reduction, "MseLoss"), "MseLoss");
    }
}
