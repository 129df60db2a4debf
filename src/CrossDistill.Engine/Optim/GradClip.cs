using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using CrossDistill.Engine.Kernels;

namespace CrossDistill.Engine.Optim;

/// <summary>Gradient clipping, as torch.nn.utils.clip_grad_norm_.</summary>
public static unsafe class GradClip
{
    // Partial sums are taken over fixed blocks so the total does not depend on the thread count.
    private const int Block = 1 << 14;

    /// <summary>
    /// Scales the gradients of <paramref name="parameters"/> in place so that their joint
    /// <paramref name="normType"/>-norm (as if concatenated into one vector; ∞ for the largest
    /// magnitude) is at most <paramref name="maxNorm"/>: each gradient is multiplied by
    /// min(1, maxNorm / (norm + 1e-6)). Parameters without a gradient are ignored. Returns the norm
    /// before clipping (0 when no parameter has a gradient).
    /// </summary>
    public static float ClipGradNorm(IEnumerable<Tensor> parameters, double maxNorm, double normType = 2, bool errorIfNonfinite = false)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (!(normType > 0)) throw new ArgumentException($"ClipGradNorm: normType must be positive or infinity, got {normType}.", nameof(normType));
        var grads = parameters.Select(p => p.Grad).OfType<Tensor>().ToList();
        if (grads.Count == 0) return 0f;
        float total = TotalNorm(grads, normType);
        if (errorIfNonfinite && !float.IsFinite(total))
            throw new InvalidOperationException($"ClipGradNorm: the total norm of order {normType} of the gradients is non-finite ({total}), so they cannot be clipped; pass errorIfNonfinite: false to scale them by it anyway.");
        float coef = (float)maxNorm / (total + 1e-6f);
        // PyTorch multiplies by the coefficient clamped to 1 (NaN passes the clamp); × 1 changes nothing.
        if (!(coef >= 1f))
            foreach (var g in grads) g.MulInPlace(coef);
        return total;
    }

    /// <summary>The joint norm of <paramref name="tensors"/> (as PyTorch: the norm of the per-tensor norms).</summary>
    public static float TotalNorm(IReadOnlyList<Tensor> tensors, double normType = 2)
    {
        bool inf = double.IsPositiveInfinity(normType);
        double total = 0;
        foreach (var t in tensors)
        {
            float norm = Norm(t, normType);
            total = inf ? MaxPropagatingNaN(total, norm) : total + Math.Pow(norm, normType);
        }
        return (float)(inf ? total : Math.Pow(total, 1 / normType));
    }

    /// <summary>The <paramref name="normType"/>-norm of one tensor, accumulated in float within fixed blocks as torch.norm does.</summary>
    public static float Norm(Tensor t, double normType = 2)
    {
        if (t.DType != DType.Float32) throw new ArgumentException($"Norm: expected a float32 tensor, got {t.DType}.", nameof(t));
        if (t.Numel == 0) return 0f;
        using var detached = t.Detach();
        using var dense = detached.IsDense ? detached.Alias() : detached.Contiguous();
        int n = dense.Numel, blocks = (n + Block - 1) / Block;
        var partial = new double[blocks];
        nint basePtr = (nint)dense.DataPtr;
        bool inf = double.IsPositiveInfinity(normType);
        float p = (float)normType;
        Workers.For(blocks, 2, (start, end) =>
        {
            for (int b = start; b < end; b++)
            {
                float* x = (float*)basePtr + (long)b * Block;
                int len = Math.Min(Block, n - b * Block);
                partial[b] = inf ? MaxAbs(x, len) : normType == 2 ? SumOfSquares(x, len) : normType == 1 ? SumOfAbs(x, len) : SumOfPowers(x, len, p);
            }
        });
        double acc = 0;
        foreach (double v in partial) acc = inf ? MaxPropagatingNaN(acc, v) : acc + v;
        return (float)(inf ? acc : normType == 2 ? Math.Sqrt(acc) : normType == 1 ? acc : Math.Pow(acc, 1 / normType));
    }

    private static double MaxPropagatingNaN(double a, double b) => double.IsNaN(a) || double.IsNaN(b) ? double.NaN : Math.Max(a, b);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float SumOfSquares(float* x, int n)
    {
        int i = 0;
        float acc = 0f;
        if (Vector512.IsHardwareAccelerated && n >= 64)
        {
            Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
            for (; i <= n - 64; i += 64)
            {
                var v0 = Vector512.Load(x + i); var v1 = Vector512.Load(x + i + 16);
                var v2 = Vector512.Load(x + i + 32); var v3 = Vector512.Load(x + i + 48);
                a0 = Vector512.FusedMultiplyAdd(v0, v0, a0); a1 = Vector512.FusedMultiplyAdd(v1, v1, a1);
                a2 = Vector512.FusedMultiplyAdd(v2, v2, a2); a3 = Vector512.FusedMultiplyAdd(v3, v3, a3);
            }
            acc = Vector512.Sum((a0 + a1) + (a2 + a3));
        }
        else if (Vector256.IsHardwareAccelerated && n >= 32)
        {
            Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
            for (; i <= n - 32; i += 32)
            {
                var v0 = Vector256.Load(x + i); var v1 = Vector256.Load(x + i + 8);
                var v2 = Vector256.Load(x + i + 16); var v3 = Vector256.Load(x + i + 24);
                a0 = Vector256.FusedMultiplyAdd(v0, v0, a0); a1 = Vector256.FusedMultiplyAdd(v1, v1, a1);
                a2 = Vector256.FusedMultiplyAdd(v2, v2, a2); a3 = Vector256.FusedMultiplyAdd(v3, v3, a3);
            }
            acc = Vector256.Sum((a0 + a1) + (a2 + a3));
        }
        for (; i < n; i++) acc = MathF.FusedMultiplyAdd(x[i], x[i], acc);
        return acc;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float SumOfAbs(float* x, int n)
    {
        int i = 0;
        float acc = 0f;
        if (Vector512.IsHardwareAccelerated && n >= 64)
        {
            Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
            for (; i <= n - 64; i += 64)
            {
                a0 += Vector512.Abs(Vector512.Load(x + i)); a1 += Vector512.Abs(Vector512.Load(x + i + 16));
                a2 += Vector512.Abs(Vector512.Load(x + i + 32)); a3 += Vector512.Abs(Vector512.Load(x + i + 48));
            }
            acc = Vector512.Sum((a0 + a1) + (a2 + a3));
        }
        else if (Vector256.IsHardwareAccelerated && n >= 32)
        {
            Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
            for (; i <= n - 32; i += 32)
            {
                a0 += Vector256.Abs(Vector256.Load(x + i)); a1 += Vector256.Abs(Vector256.Load(x + i + 8));
                a2 += Vector256.Abs(Vector256.Load(x + i + 16)); a3 += Vector256.Abs(Vector256.Load(x + i + 24));
            }
            acc = Vector256.Sum((a0 + a1) + (a2 + a3));
        }
        for (; i < n; i++) acc += MathF.Abs(x[i]);
        return acc;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float MaxAbs(float* x, int n)
    {
        int i = 0;
        float acc = 0f;
        if (Vector512.IsHardwareAccelerated && n >= 16)
        {
            Vector512<float> a = default;
            for (; i <= n - 16; i += 16) a = Vector512.Max(a, Vector512.Abs(Vector512.Load(x + i)));
            for (int k = 0; k < 16; k++) acc = MathF.Max(acc, a[k]);
        }
        else if (Vector256.IsHardwareAccelerated && n >= 8)
        {
            Vector256<float> a = default;
            for (; i <= n - 8; i += 8) a = Vector256.Max(a, Vector256.Abs(Vector256.Load(x + i)));
            for (int k = 0; k < 8; k++) acc = MathF.Max(acc, a[k]);
        }
        for (; i < n; i++) acc = MathF.Max(acc, MathF.Abs(x[i]));
        return acc;
    }

    private static float SumOfPowers(float* x, int n, float p)
    {
        // Other orders are rare (PyTorch has no fast path for them either).
        double acc = 0;
        for (int i = 0; i < n; i++) acc += Math.Pow(Math.Abs(x[i]), p);
        return (float)acc;
    }
}
