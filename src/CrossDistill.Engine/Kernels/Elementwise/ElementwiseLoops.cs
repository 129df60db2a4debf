using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace CrossDistill.Engine.Kernels;

/// <summary>
/// The shared loops that drive operator structs over spans: Vector512 where the hardware has it,
/// then Vector256, then scalar for the tail. The JIT specialises each loop per operator struct.
/// </summary>
public static unsafe class ElementwiseLoops
{
    /// <summary>Below this many elements a loop stays on the calling thread.</summary>
    public const int ParallelThreshold = 1 << 15;

    public static void Unary<TOp>(TOp op, float* x, float* y, int n) where TOp : struct, IUnaryOperator
    {
        if (n >= ParallelThreshold)
        {
            nint px = (nint)x, py = (nint)y;
            Workers.For(n / 16, ParallelThreshold / 32, (s, e) =>
            {
                int start = s * 16, end = e == n / 16 ? n : e * 16;
                UnaryRange(op, (float*)px + start, (float*)py + start, end - start);
            });
        }
        else UnaryRange(op, x, y, n);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void UnaryRange<TOp>(TOp op, float* x, float* y, int n) where TOp : struct, IUnaryOperator
    {
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            for (; i <= n - 64; i += 64)
            {
                Vector512.Store(op.Invoke(Vector512.Load(x + i)), y + i);
                Vector512.Store(op.Invoke(Vector512.Load(x + i + 16)), y + i + 16);
                Vector512.Store(op.Invoke(Vector512.Load(x + i + 32)), y + i + 32);
                Vector512.Store(op.Invoke(Vector512.Load(x + i + 48)), y + i + 48);
            }
            for (; i <= n - 16; i += 16) Vector512.Store(op.Invoke(Vector512.Load(x + i)), y + i);
        }
        if (Vector256.IsHardwareAccelerated)
            for (; i <= n - 8; i += 8) Vector256.Store(op.Invoke(Vector256.Load(x + i)), y + i);
        for (; i < n; i++) y[i] = op.Invoke(x[i]);
    }

    /// <summary>y[i*yStride] = op(x[i*xStride]) for runs that are not unit-stride.</summary>
    public static void UnaryStrided<TOp>(TOp op, float* x, int xStride, float* y, int yStride, int n) where TOp : struct, IUnaryOperator
    {
        for (int i = 0; i < n; i++) y[(long)i * yStride] = op.Invoke(x[(long)i * xStride]);
    }

    public static void Binary<TOp>(TOp op, float* x, float* y, float* z, int n) where TOp : struct, IBinaryOperator
    {
        if (n >= ParallelThreshold)
        {
            nint px = (nint)x, py = (nint)y, pz = (nint)z;
            Workers.For(n / 16, ParallelThreshold / 32, (s, e) =>
            {
                int start = s * 16, end = e == n / 16 ? n : e * 16;
                BinaryRange(op, (float*)px + start, (float*)py + start, (float*)pz + start, end - start);
            });
        }
        else BinaryRange(op, x, y, z, n);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void BinaryRange<TOp>(TOp op, float* x, float* y, float* z, int n) where TOp : struct, IBinaryOperator
    {
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            for (; i <= n - 32; i += 32)
            {
                Vector512.Store(op.Invoke(Vector512.Load(x + i), Vector512.Load(y + i)), z + i);
                Vector512.Store(op.Invoke(Vector512.Load(x + i + 16), Vector512.Load(y + i + 16)), z + i + 16);
            }
            for (; i <= n - 16; i += 16) Vector512.Store(op.Invoke(Vector512.Load(x + i), Vector512.Load(y + i)), z + i);
        }
        if (Vector256.IsHardwareAccelerated)
            for (; i <= n - 8; i += 8) Vector256.Store(op.Invoke(Vector256.Load(x + i), Vector256.Load(y + i)), z + i);
        for (; i < n; i++) z[i] = op.Invoke(x[i], y[i]);
    }

    /// <summary>z[i] = op(x[i], s): the second operand broadcast along the run.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void BinaryScalarRight<TOp>(TOp op, float* x, float s, float* z, int n) where TOp : struct, IBinaryOperator
    {
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            var vs = Vector512.Create(s);
            for (; i <= n - 16; i += 16) Vector512.Store(op.Invoke(Vector512.Load(x + i), vs), z + i);
        }
        if (Vector256.IsHardwareAccelerated)
        {
            var vs = Vector256.Create(s);
            for (; i <= n - 8; i += 8) Vector256.Store(op.Invoke(Vector256.Load(x + i), vs), z + i);
        }
        for (; i < n; i++) z[i] = op.Invoke(x[i], s);
    }

    /// <summary>z[i] = op(s, y[i]): the first operand broadcast along the run.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void BinaryScalarLeft<TOp>(TOp op, float s, float* y, float* z, int n) where TOp : struct, IBinaryOperator
    {
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            var vs = Vector512.Create(s);
            for (; i <= n - 16; i += 16) Vector512.Store(op.Invoke(vs, Vector512.Load(y + i)), z + i);
        }
        if (Vector256.IsHardwareAccelerated)
        {
            var vs = Vector256.Create(s);
            for (; i <= n - 8; i += 8) Vector256.Store(op.Invoke(vs, Vector256.Load(y + i)), z + i);
        }
        for (; i < n; i++) z[i] = op.Invoke(s, y[i]);
    }

    public static void BinaryStrided<TOp>(TOp op, float* x, int xs, float* y, int ys, float* z, int zs, int n) where TOp : struct, IBinaryOperator
    {
        for (int i = 0; i < n; i++) z[(long)i * zs] = op.Invoke(x[(long)i * xs], y[(long)i * ys]);
    }
}
