using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using CrossDistill.Engine.Kernels;

namespace CrossDistill.Engine.Kernels
{
    /// <summary>
    /// Two-pass variance over a <see cref="ReductionPlan"/>: a mean, then the sums of deviations and
    /// squared deviations, all accumulated in double; the "corrected two-pass" term Σd²-(Σd)²/n
    /// cancels what rounding left in the mean. Writes each output's mean (for backward) and its
    /// variance, or standard deviation when <c>sqrt</c> is set.
    /// </summary>
    public static unsafe class VarianceKernel
    {
        public static void Run(ReductionPlan plan, float* mean, float* result, double divisor, bool sqrt)
        {
            int outputs = plan.Outputs, length = plan.Length;
            nint px = (nint)plan.Data, pm = (nint)mean, pr = (nint)result;
            if (plan.Form == ReductionForm.Rows)
            {
                Workers.For(outputs, Math.Max(1, (1 << 15) / Math.Max(length, 1)), (start, end) =>
                {
                    for (int r = start; r < end; r++)
                    {
                        float* row = (float*)px + (long)r * length;
                        double m = RowKernels.SumWide(row, length) / length;
                        var (s1, s2) = RowKernels.Deviations(row, length, m);
                        Finish(m, s1, s2, length, divisor, sqrt, (float*)pm + r, (float*)pr + r);
                    }
                });
                return;
            }
            int blocks = (outputs + 15) / 16;
            Workers.For(blocks, Math.Max(1, (1 << 15) / Math.Max(length * 16, 1)), (start, end) =>
            {
                for (int b = start; b < end; b++)
                {
                    int c0 = b * 16, width = Math.Min(16, outputs - c0);
                    if (width == 16 && Vector512.IsHardwareAccelerated) ColumnBlock16((float*)px + c0, length, outputs, divisor, sqrt, (float*)pm + c0, (float*)pr + c0);
                    else
                        for (int c = c0; c < c0 + width; c++) Column((float*)px + c, length, outputs, divisor, sqrt, (float*)pm + c, (float*)pr + c);
                }
            });
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Finish(double m, double s1, double s2, int length, double divisor, bool sqrt, float* mean, float* result)
        {
            double v = Math.Max(0.0, s2 - s1 * s1 / length) / divisor;
            *mean = (float)m;
            *result = (float)(sqrt ? Math.Sqrt(v) : v);
        }

        private static void Column(float* x, int length, int stride, double divisor, bool sqrt, float* mean, float* result)
        {
            double sum = 0;
            for (int i = 0; i < length; i++) sum += x[(long)i * stride];
            double m = sum / length, s1 = 0, s2 = 0;
            for (int i = 0; i < length; i++)
            {
                double d = x[(long)i * stride] - m;
                s1 += d;
                s2 += d * d;
            }
            Finish(m, s1, s2, length, divisor, sqrt, mean, result);
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private static void ColumnBlock16(float* x, int length, int stride, double divisor, bool sqrt, float* mean, float* result)
        {
            Vector512<double> sumLo = default, sumHi = default;
            for (int i = 0; i < length; i++)
            {
                var (lo, hi) = Vector512.Widen(Vector512.Load(x + (long)i * stride));
                sumLo += lo;
                sumHi += hi;
            }
            var n = Vector512.Create((double)length);
            var mLo = sumLo / n;
            var mHi = sumHi / n;
            Vector512<double> d1Lo = default, d1Hi = default, d2Lo = default, d2Hi = default;
            for (int i = 0; i < length; i++)
            {
                var (lo, hi) = Vector512.Widen(Vector512.Load(x + (long)i * stride));
                lo -= mLo;
                hi -= mHi;
                d1Lo += lo;
                d1Hi += hi;
                d2Lo = Vector512.FusedMultiplyAdd(lo, lo, d2Lo);
                d2Hi = Vector512.FusedMultiplyAdd(hi, hi, d2Hi);
            }
            for (int k = 0; k < 8; k++)
            {
                Finish(mLo[k], d1Lo[k], d2Lo[k], length, divisor, sqrt, mean + k, result + k);
                Finish(mHi[k], d1Hi[k], d2Hi[k], length, divisor, sqrt, mean + 8 + k, result + 8 + k);
            }
        }
    }

    /// <summary>(x - mean)·g·scale: the gradient of a variance (scale 2/(n-c)) or, with g already divided by the deviation, of a standard deviation.</summary>
    public struct VarianceBackwardOperator : ITernaryOperator
    {
        public float Scale;
        public VarianceBackwardOperator(float scale) => Scale = scale;
        public float Invoke(float x, float mean, float g) => (x - mean) * g * Scale;
        public Vector256<float> Invoke(Vector256<float> x, Vector256<float> mean, Vector256<float> g) => (x - mean) * g * Vector256.Create(Scale);
        public Vector512<float> Invoke(Vector512<float> x, Vector512<float> mean, Vector512<float> g) => (x - mean) * g * Vector512.Create(Scale);
    }
}

namespace CrossDistill.Engine
{
    public static partial class Torch
    {
        /// <summary>
        /// Variance over <paramref name="dims"/> (all dims when null or empty), dividing by
        /// n - <paramref name="correction"/> (1: unbiased, 0: population), as torch.var.
        /// </summary>
        public static Tensor Var(Tensor x, int[]? dims = null, int correction = 1, bool keepDim = false)
            => Moments(x, dims, correction, keepDim, sqrt: false);

        public static Tensor Var(Tensor x, int dim, int correction = 1, bool keepDim = false) => Var(x, new[] { dim }, correction, keepDim);

        /// <summary>Variance and standard deviation share one kernel; only the last step and the backward scale differ.</summary>
        internal static unsafe Tensor Moments(Tensor x, int[]? dims, int correction, bool keepDim, bool sqrt)
        {
            string op = sqrt ? "Std" : "Var";
            if (x.DType != DType.Float32) throw new ArgumentException($"{op}: needs a float tensor, got {x.DType}.", nameof(x));
            if (correction < 0) throw new ArgumentException($"{op}: correction must be non-negative, got {correction}.", nameof(correction));
            var mask = OpSupport.ReducedMask(op, dims, x);
            using var plan = ReductionPlan.Create(x, mask, allowColumns: true);
            var keepShape = plan.KeepShape;
            bool empty = plan.Length == 0 || plan.Outputs == 0;
            double divisor = Math.Max(0, plan.Length - correction);
            Tensor result, mean;
            if (empty)
            {
                result = Full(keepShape, float.NaN);
                mean = Full(keepShape, float.NaN);
            }
            else
            {
                result = plan.NewOutput();
                mean = plan.NewOutput();
                VarianceKernel.Run(plan, mean.DataPtr, result.DataPtr, divisor, sqrt);
            }
            var outputShape = Reduction.OutputShape(x.Shape, mask, keepDim);
            if (!keepDim)
            {
                var squeezed = result.Reshape(outputShape);
                if (!ReferenceEquals(squeezed, result)) result.Dispose();
                result = squeezed;
            }
            if (!Autograd.ShouldRecord(x))
            {
                mean.Dispose();
                return result;
            }
            var inputShape = x.Shape;
            var saved = sqrt ? result.Detach() : null;
            return Autograd.Record(result, sqrt ? "StdBackward" : "VarBackward", new[] { x }, g =>
            {
                if (empty) return new[] { Zeros(inputShape) };
                using var gk = g.Reshape(keepShape);
                if (!sqrt) return new[] { TernaryElementwise.Zip(new VarianceBackwardOperator((float)(2.0 / divisor)), x, mean, gk) };
                using var sk = saved!.Reshape(keepShape);
                using var scaled = Elementwise.Zip(new StdGradientOperator(), gk, sk);
                return new[] { TernaryElementwise.Zip(new VarianceBackwardOperator((float)(1.0 / divisor)), x, mean, scaled) };
            });
        }
    }

    public sealed partial class Tensor
    {
        public Tensor Var(int[]? dims = null, int correction = 1, bool keepDim = false) => Torch.Var(this, dims, correction, keepDim);
        public Tensor Var(int dim, int correction = 1, bool keepDim = false) => Torch.Var(this, dim, correction, keepDim);
    }
}
