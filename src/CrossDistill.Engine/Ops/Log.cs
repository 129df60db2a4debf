using System.Runtime.Intrinsics;
using CrossDistill.Engine.Kernels;

namespace CrossDistill.Engine.Kernels
{
    public struct LogOperator : IUnaryOperator
    {
        public float Invoke(float x) => MathF.Log(x);
        public Vector256<float> Invoke(Vector256<float> x) => Vector256.Log(x);
        public Vector512<float> Invoke(Vector512<float> x) => Vector512.Log(x);
    }
}

namespace CrossDistill.Engine
{
    public static partial class Torch
    {
        /// <summary>Natural logarithm (NaN below 0, -∞ at 0).</summary>
        public static Tensor Log(Tensor x)
        {
            var y = Elementwise.Map(new LogOperator(), x);
            return Autograd.Record(y, "LogBackward", new[] { x }, g => new[] { Elementwise.Zip(new DivideOperator(), g, x) });
        }
    }

    public sealed partial class Tensor
    {
        public Tensor Log() => Torch.Log(this);
    }
}
