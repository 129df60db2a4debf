using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using CrossDistill.Engine.Kernels;

namespace CrossDistill.Engine.Kernels
{
    /// <summary>
    /// log Σ exp over a <see cref="ReductionPlan"/>, shifted by each output's maximum so nothing
    /// overflows. An infinite maximum shifts by 0 instead (as PyTorch), so rows of -∞ give -∞ and
    /// rows holding +∞ give +∞ rather than NaN.
    /// </summary>
    public static unsafe class LogsumexpKernel
    {
        public static void Run(ReductionPlan plan, float* result)
        {
            int outputs = plan.Outputs, length = plan.Length;
            nint px = (nint)plan.Data, pr = (nint)result;
            if (plan.Form == ReductionForm.Rows)
            {
                Workers.For(outputs, Math.Max(1, (1 << 14) / Math.Max(length, 1)), (start, end) =>
                {
                    for (int r = start; r < end; r++)
                    {
                        float* row = (float*)px + (long)r * length;
                        float shift = Shift(RowKernels.Max(row, length));
                        ((float*)pr)[r] = (float)(shift + Math.Log(RowKernels.SumExp(row, length, shift)));
                    }
                });
                return;
            }
            int blocks = (outputs + 15) / 16;
            Workers.For(blocks, Math.Max(1, (1 << 14) / Math.Max(length * 16, 1)), (start, end) =>
            {
                for (int b = start; b < end; b++)
                {
                    int c0 = b * 16, width = Math.Min(16, outputs - c0);
                    if (width == 16 && Vector512.IsHardwareAccelerated) ColumnBlock16((float*)px + c0, length, outputs, (float*)pr + c0);
                    else
                        for (int c = c0; c < c0 + width; c++) Column((float*)px + c, length, outputs, (float*)pr + c);
                }
            });
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static float Shift(float max) => float.IsInfinity(max) ? 0f : max;

        private static void Column(float* x, int length, int stride, float* result)
        {
            float m = float.NegativeInfinity;
            for (int i = 0; i < length; i++) m = MathF.Max(m, x[(long)i * stride]);
            float shift = Shift(m);
            double sum = 0;
            for (int i = 0; i < length; i++) sum += MathF.Exp(x[(long)i * stride] - shift);
            *result = (float)(shift + Math.Log(sum));
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private static void ColumnBlock16(float* x, int length, int stride, float* result)
        {
            var m = Vector512.Create(float.NegativeInfinity);
            for (int i = 0; i < length; i++) m = Vector512.Max(m, Vector512.Load(x + (long)i * stride));
            var shift = Vector512.ConditionalSelect(Vector512.Equals(Vector512.Abs(m), Vector512.Create(float.PositiveInfinity)), Vector512<float>.Zero, m);
            Vector512<double> lo = default, hi = default;
            for (int i = 0; i < length; i++)
            {
                var (elo, ehi) = Vector512.Widen(Vector512.Exp(Vector512.Load(x + (long)i * stride) - shift));
                lo += elo;
                hi += ehi;
            }
            var (slo, shi) = Vector512.Widen(shift);
            Vector512.Store(Vector512.Narrow(slo + Vector512.Log(lo), shi + Vector512.Log(hi)), result);
        }
    }

    /// <summary>g·exp(x - lse): the softmax of x along the reduced dims, scaled by the upstream gradient.</summary>
    public struct LogsumexpBackwardOperator : ITernaryOperator
    {
        public float Invoke(float x, float lse, float g) => g * MathF.Exp(x - lse);
        public Vector256<float> Invoke(Vector256<float> x, Vector256<float> lse, Vector256<float> g) => g * Vector256.Exp(x - lse);
        public Vector512<float> Invoke(Vector512<float> x, Vector512<float> lse, Vector512<float> g) => g * Vector512.Exp(x - lse);
    }
}

namespace CrossDistill.Engine
{
    public static partial class Torch
    {
        /// <summary>log Σ exp(x) over <paramref name="dims"/> (all dims when null or empty), computed without overflow.</summary>
        public static unsafe Tensor Logsumexp(Tensor x, int[]? dims, bool keepDim = false)
        {
            if (x.DType != DType.Float32) throw new ArgumentException($"Logsumexp: needs a float tensor, got {x.DType}.", nameof(x));
            var mask = OpSupport.ReducedMask("Logsumexp", dims, x);
            using var plan = ReductionPlan.Create(x, mask, allowColumns: true);
            var keepShape = plan.KeepShape;
            Tensor keep;
            if (plan.Length == 0 || plan.Outputs == 0) keep = Full(keepShape, float.NegativeInfinity);
            else
            {
                keep = plan.NewOutput();
                LogsumexpKernel.Run(plan, keep.DataPtr);
            }
            bool record = Autograd.ShouldRecord(x);
            var savedKeep = record ? keep.Detach() : null;
            var result = keep;
            if (!keepDim)
            {
                result = keep.Reshape(Reduction.OutputShape(x.Shape, mask, keepDim: false));
                if (!ReferenceEquals(result, keep)) keep.Dispose();
            }
            if (!record) return result;
            return Autograd.Record(result, "LogsumexpBackward", new[] { x }, g =>
            {
                using var gk = g.Reshape(keepShape);
                return new[] { TernaryElementwise.Zip(new LogsumexpBackwardOperator(), x, savedKeep!, gk) };
            });
        }

        public static Tensor Logsumexp(Tensor x, int dim, bool keepDim = false) => Logsumexp(x, new[] { dim }, keepDim);
    }

    public sealed partial class Tensor
    {
        public Tensor Logsumexp(int[]? dims, bool keepDim = false) => Torch.Logsumexp(this, dims, keepDim);
        public Tensor Logsumexp(int dim, bool keepDim = false) => Torch.Logsumexp(this, dim, keepDim);
    }
}
