using CrossDistill.Engine.Kernels;

namespace CrossDistill.Engine
{
    public static partial class F
    {
        /// <summary>exp(x)/Σexp(x) along <paramref name="dim"/>, fused (max, exp-sum, normalise) and kept in x's dense layout.</summary>
        public static Tensor Softmax(Tensor x, int dim) => SoftmaxAlongDim(x, dim, log: false);

        /// <summary>The fused forward and backward shared by <see cref="Softmax"/> and <see cref="LogSoftmax"/>.</summary>
        internal static unsafe Tensor SoftmaxAlongDim(Tensor x, int dim, bool log)
        {
            string name = log ? "LogSoftmax" : "Softmax";
            if (x.DType != DType.Float32) throw new ArgumentException($"{name}: needs a float tensor, got {x.DType}.", nameof(x));
            int d = OpSupport.Dim(name, dim, x);
            using var dense = DenseLayout.Handle(x);
            var slices = DimSlices.Of(dense, d);
            var y = Tensor.Empty((int[])x.Shape.Clone(), (int[])slices.Strides.Clone());
            SoftmaxKernel.Forward(dense.DataPtr, y.DataPtr, slices, log);
            return Autograd.Record(y, name + "Backward", new[] { x }, g =>
            {
                using var gd = DenseLayout.Conform(g, y.Shape, slices.Strides);
                var gx = Tensor.Empty((int[])y.Shape.Clone(), (int[])slices.Strides.Clone());
                SoftmaxKernel.Backward(gd.DataPtr, y.DataPtr, gx.DataPtr, slices, log);
                return new[] { gx };
            });
        }
    }

    public sealed partial class Tensor
    {
        public Tensor Softmax(int dim) => F.Softmax(this, dim);
    }
}
