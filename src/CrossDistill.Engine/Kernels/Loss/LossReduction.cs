using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace CrossDistill.Engine.Kernels;

/// <summary>How a loss folds its per-element values: PyTorch's reduction argument.</summary>
internal enum LossReduction
{
    None,
    Mean,
    Sum,
    /// <summary>The sum divided by the batch size (kl_div only).</summary>
    BatchMean,
}

internal static unsafe class LossReductions
{
    private const int Chunk = 1 << 14;

    public static LossReduction Parse(string reduction, string op, bool allowBatchMean = false) => reduction switch
    {
        "none" => LossReduction.None,
        "mean" => LossReduction.Mean,
        "sum" => LossReduction.Sum,
        "batchmean" when allowBatchMean => LossReduction.BatchMean,
        _ => throw new ArgumentException(
            $"{op}: reduction must be {(allowBatchMean ? "'none', 'mean', 'sum' or 'batchmean'" : "'none', 'mean' or 'sum'")}, got '{reduction}'.", nameof(reduction)),
    };

    /// <summary>
    /// Σ op(a[i], b[i]) over n elements, in chunks of fixed size whose float sums are added in
    /// double in chunk order: the result does not depend on the thread count.
    /// </summary>
    public static double Sum<TOp>(TOp op, float* a, float* b, int n) where TOp : struct, IBinaryOperator
    {
        int chunks = (n + Chunk - 1) / Chunk;
        if (chunks <= 1) return SumRange(op, a, b, n);
        var partial = new double[chunks];
        nint pa = (nint)a, pb = (nint)b;
        Workers.For(chunks, 2, (start, end) =>
        {
            for (int k = start; k < end; k++)
            {
                int o = k * Chunk;
                partial[k] = SumRange(op, (float*)pa + o, (float*)pb + o, Math.Min(Chunk, n - o));
            }
        });
        double total = 0;
        foreach (double p in partial) total += p;
        return total;
    }

    /// <summary>Σ x[i] over a dense run of n elements (see <see cref="Sum{TOp}"/>).</summary>
    public static double Sum(float* x, int n) => Sum(new FirstOperand(), x, x, n);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float SumRange<TOp>(TOp op, float* a, float* b, int n) where TOp : struct, IBinaryOperator
    {
        int i = 0;
        float acc = 0f;
        if (Vector512.IsHardwareAccelerated && n >= 16)
        {
            Vector512<float> s0 = default, s1 = default, s2 = default, s3 = default;
            for (; i <= n - 64; i += 64)
            {
                s0 += op.Invoke(Vector512.Load(a + i), Vector512.Load(b + i));
                s1 += op.Invoke(Vector512.Load(a + i + 16), Vector512.Load(b + i + 16));
                s2 += op.Invoke(Vector512.Load(a + i + 32), Vector512.Load(b + i + 32));
                s3 += op.Invoke(Vector512.Load(a + i + 48), Vector512.Load(b + i + 48));
            }
            for (; i <= n - 16; i += 16) s0 += op.Invoke(Vector512.Load(a + i), Vector512.Load(b + i));
            acc = Vector512.Sum((s0 + s1) + (s2 + s3));
        }
        else if (Vector256.IsHardwareAccelerated && n >= 8)
        {
            Vector256<float> s0 = default, s1 = default;
            for (; i <= n - 16; i += 16)
            {
                s0 += op.Invoke(Vector256.Load(a + i), Vector256.Load(b + i));
                s1 += op.Invoke(Vector256.Load(a + i + 8), Vector256.Load(b + i + 8));
            }
            for (; i <= n - 8; i += 8) s0 += op.Invoke(Vector256.Load(a + i), Vector256.Load(b + i));
            acc = Vector256.Sum(s0 + s1);
        }
        for (; i < n; i++) acc += op.Invoke(a[i], b[i]);
        return acc;
    }

    private struct FirstOperand : IBinaryOperator
    {
        public float Invoke(float x, float y) => x;
        public Vector256<float> Invoke(Vector256<float> x, Vector256<float> y) => x;
        public Vector512<float> Invoke(Vector512<float> x, Vector512<float> y) => x;
    }
}
