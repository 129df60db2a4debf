using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace CrossDistill.Engine.Kernels;

/// <summary>
/// Short vector loops over a run of channels (the innermost, unit-stride dim of an NHWC tensor, or a
/// row of a plane): the building blocks of the spatial kernels' channels-last paths.
/// </summary>
internal static unsafe class ChannelMath
{
    /// <summary>dst[i] += src[i].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Add(float* dst, float* src, int n)
    {
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
            for (; i <= n - 16; i += 16) Vector512.Store(Vector512.Load(dst + i) + Vector512.Load(src + i), dst + i);
        if (Vector256.IsHardwareAccelerated)
            for (; i <= n - 8; i += 8) Vector256.Store(Vector256.Load(dst + i) + Vector256.Load(src + i), dst + i);
        for (; i < n; i++) dst[i] += src[i];
    }

    /// <summary>dst[i] += s · src[i].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void AddScaled(float* dst, float* src, float s, int n)
    {
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            var vs = Vector512.Create(s);
            for (; i <= n - 16; i += 16) Vector512.Store(Vector512.Load(dst + i) + vs * Vector512.Load(src + i), dst + i);
        }
        if (Vector256.IsHardwareAccelerated)
        {
            var vs = Vector256.Create(s);
            for (; i <= n - 8; i += 8) Vector256.Store(Vector256.Load(dst + i) + vs * Vector256.Load(src + i), dst + i);
        }
        for (; i < n; i++) dst[i] += s * src[i];
    }

    /// <summary>dst[i] += s (a constant spread over a run).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void AddConstant(float* dst, float s, int n)
    {
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            var vs = Vector512.Create(s);
            for (; i <= n - 16; i += 16) Vector512.Store(Vector512.Load(dst + i) + vs, dst + i);
        }
        for (; i < n; i++) dst[i] += s;
    }

    /// <summary>Copies n floats; short runs skip the call overhead of a block copy.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Copy(float* dst, float* src, int n)
    {
        if (n >= 16) Buffer.MemoryCopy(src, dst, (long)n * sizeof(float), (long)n * sizeof(float));
        else for (int i = 0; i < n; i++) dst[i] = src[i];
    }

    /// <summary>The sum of n floats in a fixed order (vector lanes, then the tail).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Sum(float* x, int n) => n >= 16 ? Reduction.ReduceRow(new SumReduce(), x, n) : SumShort(x, n);

    private static float SumShort(float* x, int n)
    {
        float s = 0f;
        for (int i = 0; i < n; i++) s += x[i];
        return s;
    }
}
