using System.Runtime.Intrinsics;
using CrossDistill.Engine.Kernels;

namespace CrossDistill.Engine.Kernels
{
    /// <summary>g where 0 &lt; x &lt; 6 (both ends excluded, as PyTorch's hardtanh backward), else 0.</summary>
    public struct Relu6BackwardOperator : IBinaryOperator
    {
        public float Invoke(float g, float x) => x > 0f && x < 6f ? g : 0f;

        public Vector256<float> Invoke(Vector256<float> g, Vector256<float> x)
            => g & Vector256.GreaterThan(x, Vector256<float>.Zero) & Vector256.LessThan(x, Vector256.Create(6f));

        public Vector512<float> Invoke(Vector512<float> g, Vector512<float> x)
            => g & Vector512.GreaterThan(x, Vector512<float>.Zero) & Vector512.LessThan(x, Vector512.Create(6f));
    }
}

namespace CrossDistill.Engine
{
    public static partial class F
    {
        /// <summary>min(max(x, 0), 6).</summary>
        public static Tensor Relu6(Tensor x)
        {
            var y = Elementwise.Map(new ClampOperator(0f, 6f), x);
            return Autograd.Record(y, "Relu6Backward", new[] { x }, g => new[] { Elementwise.Zip(new Relu6BackwardOperator(), g, x) });
        }
    }
}
