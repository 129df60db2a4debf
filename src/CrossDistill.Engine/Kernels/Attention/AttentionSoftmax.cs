using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace CrossDistill.Engine.Kernels;

/// <summary>
/// An additive float mask broadcast to [batch…, L, S]: the start of each batch's [L, S] block and
/// the row and column strides inside it (0 along broadcast dims).
/// </summary>
internal readonly unsafe struct AttentionMask
{
    public readonly nint Ptr;
    public readonly long[]? BatchOffsets;
    public readonly long RowStride, ColStride;

    public AttentionMask(float* ptr, long[] batchOffsets, long rowStride, long colStride)
    {
        Ptr = (nint)ptr;
        BatchOffsets = batchOffsets;
        RowStride = rowStride;
        ColStride = colStride;
    }

    public bool IsPresent => BatchOffsets is not null;

    public float* Row(int batch, int row) => (float*)Ptr + BatchOffsets![batch] + row * RowStride;
}

/// <summary>
/// The row kernels of attention: a masked, numerically stable softmax of the scores in place
/// (mask add, max, exp-sum and normalise fused per row, while the row is in L1), and its backward
/// ds = p ⊙ (dp − Σ dp⊙p) in place.
/// </summary>
internal static unsafe class AttentionSoftmax
{
    /// <summary>
    /// Softmax over each row of scores [batch·L, S]. With <paramref name="causal"/>, row i keeps
    /// columns 0…i (the top-left aligned lower triangle, as PyTorch's is_causal) and the rest become 0.
    /// A row whose every entry is −∞ becomes NaN, as in PyTorch.
    /// </summary>
    public static void Forward(float* scores, int batch, int l, int s, AttentionMask mask, bool causal)
    {
        if (s == 0) return;
        nint ps = (nint)scores;
        Workers.For(batch * l, Math.Max(1, (1 << 14) / s), (start, end) =>
        {
            for (int r = start; r < end; r++)
            {
                int b = r / l, i = r % l;
                float* row = (float*)ps + (long)r * s;
                int valid = causal ? Math.Min(i + 1, s) : s;
                if (mask.IsPresent) AddMask(row, mask.Row(b, i), mask.ColStride, valid);
                SoftmaxRow(row, valid);
                new Span<float>(row + valid, s - valid).Clear();
            }
        });
    }

    /// <summary>dp ← p ⊙ (dp − Σ dp⊙p) over each of <paramref name="rows"/> rows of length <paramref name="s"/>.</summary>
    public static void Backward(float* p, float* dp, int rows, int s)
    {
        if (s == 0) return;
        nint pp = (nint)p, pdp = (nint)dp;
        Workers.For(rows, Math.Max(1, (1 << 14) / s), (start, end) =>
        {
            for (int r = start; r < end; r++) BackwardRow((float*)pp + (long)r * s, (float*)pdp + (long)r * s, s);
        });
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void AddMask(float* row, float* mask, long colStride, int n)
    {
        int j = 0;
        if (colStride == 1)
        {
            if (Vector512.IsHardwareAccelerated)
                for (; j <= n - 16; j += 16) Vector512.Store(Vector512.Load(row + j) + Vector512.Load(mask + j), row + j);
            for (; j < n; j++) row[j] += mask[j];
        }
        else for (; j < n; j++) row[j] += mask[j * colStride];
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void SoftmaxRow(float* row, int n)
    {
        float max = RowMax(row, n);
        int j = 0;
        float sum = 0f;
        if (Vector512.IsHardwareAccelerated && n >= 16)
        {
            var vmax = Vector512.Create(max);
            var acc = Vector512<float>.Zero;
            for (; j <= n - 16; j += 16)
            {
                var e = Vector512.Exp(Vector512.Load(row + j) - vmax);
                Vector512.Store(e, row + j);
                acc += e;
            }
            sum = Vector512.Sum(acc);
        }
        for (; j < n; j++)
        {
            float e = MathF.Exp(row[j] - max);
            row[j] = e;
            sum += e;
        }
        float inv = 1f / sum;
        j = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            var vinv = Vector512.Create(inv);
            for (; j <= n - 16; j += 16) Vector512.Store(Vector512.Load(row + j) * vinv, row + j);
        }
        for (; j < n; j++) row[j] *= inv;
    }

    /// <summary>The largest entry; NaN entries make the row NaN anyway once exponentiated.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float RowMax(float* row, int n)
    {
        int j = 0;
        float max = float.NegativeInfinity;
        if (Vector512.IsHardwareAccelerated && n >= 16)
        {
            var m0 = Vector512.Load(row);
            var m1 = m0;
            for (j = 16; j <= n - 32; j += 32)
            {
                m0 = Vector512.MaxNative(m0, Vector512.Load(row + j));
                m1 = Vector512.MaxNative(m1, Vector512.Load(row + j + 16));
            }
            for (; j <= n - 16; j += 16) m0 = Vector512.MaxNative(m0, Vector512.Load(row + j));
            m0 = Vector512.MaxNative(m0, m1);
            var m256 = Vector256.MaxNative(m0.GetLower(), m0.GetUpper());
            var m128 = Vector128.MaxNative(m256.GetLower(), m256.GetUpper());
            max = MathF.Max(MathF.Max(m128[0], m128[1]), MathF.Max(m128[2], m128[3]));
        }
        for (; j < n; j++) max = MathF.Max(max, row[j]);
        return max;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void BackwardRow(float* p, float* dp, int n)
    {
        int j = 0;
        float dot = 0f;
        if (Vector512.IsHardwareAccelerated && n >= 16)
        {
            var acc = Vector512<float>.Zero;
            for (; j <= n - 16; j += 16) acc = Vector512.FusedMultiplyAdd(Vector512.Load(p + j), Vector512.Load(dp + j), acc);
            dot = Vector512.Sum(acc);
        }
        for (; j < n; j++) dot += p[j] * dp[j];
        j = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            var vdot = Vector512.Create(dot);
            for (; j <= n - 16; j += 16)
            {
                var pv = Vector512.Load(p + j);
                Vector512.Store(pv * (Vector512.Load(dp + j) - vdot), dp + j);
            }
        }
        for (; j < n; j++) dp[j] = p[j] * (dp[j] - dot);
    }
}
