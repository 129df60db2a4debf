using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace CrossDistill.Engine.Kernels;

/// <summary>
/// Vectorised passes over one unit-stride row, the building blocks of the fused row kernels
/// (softmax, logsumexp, variance, arg-max). Each has Vector512, Vector256 and scalar bodies and
/// a fixed order of accumulation, so a row's result does not depend on threading.
/// </summary>
public static unsafe class RowKernels
{
    // Vector accumulators are folded into a double every this many elements, which keeps long
    // sums accurate without paying for double arithmetic on every element; scalar tails add
    // straight into the double.
    private const int FoldBlock = 1024;

    /// <summary>The largest element; NaN if any element is NaN (torch.max semantics). n ≥ 1.</summary>
    public static float Max(float* x, int n) => Extreme(new MaxOfRow(), x, n);

    /// <summary>The smallest element; NaN if any element is NaN. n ≥ 1.</summary>
    public static float Min(float* x, int n) => Extreme(new MinOfRow(), x, n);

    /// <summary>Max or min of a row: the NaN-propagating comparison with scalar and vector bodies.</summary>
    private interface IExtreme
    {
        float Identity { get; }
        float Invoke(float a, float b);
        Vector256<float> Invoke(Vector256<float> a, Vector256<float> b);
        Vector512<float> Invoke(Vector512<float> a, Vector512<float> b);
    }

    private struct MaxOfRow : IExtreme
    {
        public float Identity => float.NegativeInfinity;
        public float Invoke(float a, float b) => MathF.Max(a, b);
        public Vector256<float> Invoke(Vector256<float> a, Vector256<float> b) => Vector256.Max(a, b);
        public Vector512<float> Invoke(Vector512<float> a, Vector512<float> b) => Vector512.Max(a, b);
    }

    private struct MinOfRow : IExtreme
    {
        public float Identity => float.PositiveInfinity;
        public float Invoke(float a, float b) => MathF.Min(a, b);
        public Vector256<float> Invoke(Vector256<float> a, Vector256<float> b) => Vector256.Min(a, b);
        public Vector512<float> Invoke(Vector512<float> a, Vector512<float> b) => Vector512.Min(a, b);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float Extreme<TOp>(TOp op, float* x, int n) where TOp : struct, IExtreme
    {
        int i = 0;
        float m = op.Identity;
        if (Vector512.IsHardwareAccelerated && n >= 16)
        {
            var a0 = Vector512.Create(op.Identity);
            var a1 = a0;
            for (; i <= n - 32; i += 32)
            {
                a0 = op.Invoke(a0, Vector512.Load(x + i));
                a1 = op.Invoke(a1, Vector512.Load(x + i + 16));
            }
            for (; i <= n - 16; i += 16) a0 = op.Invoke(a0, Vector512.Load(x + i));
            var a = op.Invoke(a0, a1);
            m = Horizontal(op, op.Invoke(a.GetLower(), a.GetUpper()));
        }
        else if (Vector256.IsHardwareAccelerated && n >= 8)
        {
            var a0 = Vector256.Create(op.Identity);
            for (; i <= n - 8; i += 8) a0 = op.Invoke(a0, Vector256.Load(x + i));
            m = Horizontal(op, a0);
        }
        for (; i < n; i++) m = op.Invoke(m, x[i]);
        return m;
    }

    private static float Horizontal<TOp>(TOp op, Vector256<float> v) where TOp : struct, IExtreme
    {
        float m = v[0];
        for (int k = 1; k < 8; k++) m = op.Invoke(m, v[k]);
        return m;
    }

    /// <summary>The first index holding <paramref name="value"/> (the first NaN when value is NaN), or -1.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static int IndexOf(float* x, int n, float value)
    {
        int i = 0;
        bool nan = float.IsNaN(value);
        if (Vector512.IsHardwareAccelerated)
        {
            var v = Vector512.Create(value);
            for (; i <= n - 16; i += 16)
            {
                var xs = Vector512.Load(x + i);
                ulong bits = (nan ? ~Vector512.Equals(xs, xs) : Vector512.Equals(xs, v)).ExtractMostSignificantBits();
                if (bits != 0) return i + BitOperations.TrailingZeroCount(bits);
            }
        }
        if (Vector256.IsHardwareAccelerated)
        {
            var v = Vector256.Create(value);
            for (; i <= n - 8; i += 8)
            {
                var xs = Vector256.Load(x + i);
                uint bits = (nan ? ~Vector256.Equals(xs, xs) : Vector256.Equals(xs, v)).ExtractMostSignificantBits();
                if (bits != 0) return i + BitOperations.TrailingZeroCount(bits);
            }
        }
        for (; i < n; i++)
            if (nan ? float.IsNaN(x[i]) : x[i] == value) return i;
        return -1;
    }

    /// <summary>Σ exp(x[i] - shift).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static double SumExp(float* x, int n, float shift)
    {
        double total = 0;
        for (int start = 0; start < n; start += FoldBlock)
        {
            int end = Math.Min(n, start + FoldBlock), i = start;
            float partial = 0f;
            if (Vector512.IsHardwareAccelerated)
            {
                var s = Vector512.Create(shift);
                Vector512<float> a0 = default, a1 = default;
                for (; i <= end - 32; i += 32)
                {
                    a0 += Vector512.Exp(Vector512.Load(x + i) - s);
                    a1 += Vector512.Exp(Vector512.Load(x + i + 16) - s);
                }
                for (; i <= end - 16; i += 16) a0 += Vector512.Exp(Vector512.Load(x + i) - s);
                partial += Vector512.Sum(a0 + a1);
            }
            if (Vector256.IsHardwareAccelerated)
            {
                var s = Vector256.Create(shift);
                Vector256<float> a0 = default;
                for (; i <= end - 8; i += 8) a0 += Vector256.Exp(Vector256.Load(x + i) - s);
                partial += Vector256.Sum(a0);
            }
            for (; i < end; i++) total += MathF.Exp(x[i] - shift);
            total += partial;
        }
        return total;
    }

    /// <summary>y[i] = exp(x[i] - shift); returns Σ y.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static double ExpStore(float* x, float* y, int n, float shift)
    {
        double total = 0;
        for (int start = 0; start < n; start += FoldBlock)
        {
            int end = Math.Min(n, start + FoldBlock), i = start;
            float partial = 0f;
            if (Vector512.IsHardwareAccelerated)
            {
                var s = Vector512.Create(shift);
                Vector512<float> a0 = default;
                for (; i <= end - 16; i += 16)
                {
                    var e = Vector512.Exp(Vector512.Load(x + i) - s);
                    Vector512.Store(e, y + i);
                    a0 += e;
                }
                partial += Vector512.Sum(a0);
            }
            if (Vector256.IsHardwareAccelerated)
            {
                var s = Vector256.Create(shift);
                Vector256<float> a0 = default;
                for (; i <= end - 8; i += 8)
                {
                    var e = Vector256.Exp(Vector256.Load(x + i) - s);
                    Vector256.Store(e, y + i);
                    a0 += e;
                }
                partial += Vector256.Sum(a0);
            }
            for (; i < end; i++)
            {
                float e = MathF.Exp(x[i] - shift);
                y[i] = e;
                total += e;
            }
            total += partial;
        }
        return total;
    }

    /// <summary>Σ x[i].</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static double Sum(float* x, int n)
    {
        double total = 0;
        for (int start = 0; start < n; start += FoldBlock)
        {
            int end = Math.Min(n, start + FoldBlock), i = start;
            float partial = 0f;
            if (Vector512.IsHardwareAccelerated)
            {
                Vector512<float> a0 = default, a1 = default;
                for (; i <= end - 32; i += 32)
                {
                    a0 += Vector512.Load(x + i);
                    a1 += Vector512.Load(x + i + 16);
                }
                for (; i <= end - 16; i += 16) a0 += Vector512.Load(x + i);
                partial += Vector512.Sum(a0 + a1);
            }
            if (Vector256.IsHardwareAccelerated)
            {
                Vector256<float> a0 = default;
                for (; i <= end - 8; i += 8) a0 += Vector256.Load(x + i);
                partial += Vector256.Sum(a0);
            }
            for (; i < end; i++) total += x[i];
            total += partial;
        }
        return total;
    }

    /// <summary>Σ a[i]·b[i].</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static double Dot(float* a, float* b, int n)
    {
        double total = 0;
        for (int start = 0; start < n; start += FoldBlock)
        {
            int end = Math.Min(n, start + FoldBlock), i = start;
            float partial = 0f;
            if (Vector512.IsHardwareAccelerated)
            {
                Vector512<float> a0 = default, a1 = default;
                for (; i <= end - 32; i += 32)
                {
                    a0 = Vector512.FusedMultiplyAdd(Vector512.Load(a + i), Vector512.Load(b + i), a0);
                    a1 = Vector512.FusedMultiplyAdd(Vector512.Load(a + i + 16), Vector512.Load(b + i + 16), a1);
                }
                for (; i <= end - 16; i += 16) a0 = Vector512.FusedMultiplyAdd(Vector512.Load(a + i), Vector512.Load(b + i), a0);
                partial += Vector512.Sum(a0 + a1);
            }
            if (Vector256.IsHardwareAccelerated)
            {
                Vector256<float> a0 = default;
                for (; i <= end - 8; i += 8) a0 = Vector256.FusedMultiplyAdd(Vector256.Load(a + i), Vector256.Load(b + i), a0);
                partial += Vector256.Sum(a0);
            }
            for (; i < end; i++) total += a[i] * b[i];
            total += partial;
        }
        return total;
    }

    /// <summary>Σ x[i] in double (each float widened before it is added).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static double SumWide(float* x, int n)
    {
        int i = 0;
        double total = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            Vector512<double> a0 = default, a1 = default;
            for (; i <= n - 16; i += 16)
            {
                var (lo, hi) = Vector512.Widen(Vector512.Load(x + i));
                a0 += lo;
                a1 += hi;
            }
            total += Vector512.Sum(a0 + a1);
        }
        if (Vector256.IsHardwareAccelerated)
        {
            Vector256<double> a0 = default, a1 = default;
            for (; i <= n - 8; i += 8)
            {
                var (lo, hi) = Vector256.Widen(Vector256.Load(x + i));
                a0 += lo;
                a1 += hi;
            }
            total += Vector256.Sum(a0 + a1);
        }
        for (; i < n; i++) total += x[i];
        return total;
    }

    /// <summary>Σ (x[i] - mean) and Σ (x[i] - mean)² in double: the second pass of a two-pass variance.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static (double Sum, double SumSquares) Deviations(float* x, int n, double mean)
    {
        int i = 0;
        double s1 = 0, s2 = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            var m = Vector512.Create(mean);
            Vector512<double> d1 = default, d2 = default;
            for (; i <= n - 16; i += 16)
            {
                var (lo, hi) = Vector512.Widen(Vector512.Load(x + i));
                lo -= m;
                hi -= m;
                d1 += lo + hi;
                d2 = Vector512.FusedMultiplyAdd(lo, lo, Vector512.FusedMultiplyAdd(hi, hi, d2));
            }
            s1 += Vector512.Sum(d1);
            s2 += Vector512.Sum(d2);
        }
        if (Vector256.IsHardwareAccelerated)
        {
            var m = Vector256.Create(mean);
            Vector256<double> d1 = default, d2 = default;
            for (; i <= n - 8; i += 8)
            {
                var (lo, hi) = Vector256.Widen(Vector256.Load(x + i));
                lo -= m;
                hi -= m;
                d1 += lo + hi;
                d2 = Vector256.FusedMultiplyAdd(lo, lo, Vector256.FusedMultiplyAdd(hi, hi, d2));
            }
            s1 += Vector256.Sum(d1);
            s2 += Vector256.Sum(d2);
        }
        for (; i < n; i++)
        {
            double d = x[i] - mean;
            s1 += d;
            s2 += d * d;
        }
        return (s1, s2);
    }

    /// <summary>y[i] = x[i]·s.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Scale(float* x, float* y, int n, float s)
    {
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            var v = Vector512.Create(s);
            for (; i <= n - 16; i += 16) Vector512.Store(Vector512.Load(x + i) * v, y + i);
        }
        if (Vector256.IsHardwareAccelerated)
        {
            var v = Vector256.Create(s);
            for (; i <= n - 8; i += 8) Vector256.Store(Vector256.Load(x + i) * v, y + i);
        }
        for (; i < n; i++) y[i] = x[i] * s;
    }
}
