using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace CrossDistill.Engine.Kernels;

/// <summary>A three-input elementwise function with scalar and vector bodies (where, fused backward formulas).</summary>
public interface ITernaryOperator
{
    float Invoke(float x, float y, float z);
    Vector256<float> Invoke(Vector256<float> x, Vector256<float> y, Vector256<float> z);
    Vector512<float> Invoke(Vector512<float> x, Vector512<float> y, Vector512<float> z);
}

/// <summary>
/// Runs ternary operator structs over whole tensors with broadcasting, like <see cref="Elementwise.Zip"/>:
/// the output keeps the layout of the first dense input of the output's shape.
/// </summary>
public static unsafe class TernaryElementwise
{
    public static Tensor Zip<TOp>(TOp op, Tensor a, Tensor b, Tensor c) where TOp : struct, ITernaryOperator
    {
        var shape = ShapeUtil.Broadcast(ShapeUtil.Broadcast(a.Shape, b.Shape), c.Shape);
        var z = Elementwise.NewOutput(shape, a, b, c);
        ZipInto(op, a, b, c, z);
        return z;
    }

    public static void ZipInto<TOp>(TOp op, Tensor a, Tensor b, Tensor c, Tensor z) where TOp : struct, ITernaryOperator
    {
        if (z.Numel == 0) return;
        var aStrides = Elementwise.BroadcastStrides(a, z.Shape);
        var bStrides = Elementwise.BroadcastStrides(b, z.Shape);
        var cStrides = Elementwise.BroadcastStrides(c, z.Shape);
        nint pa = (nint)a.DataPtr, pb = (nint)b.DataPtr, pc = (nint)c.DataPtr, pz = (nint)z.DataPtr;
        if (z.IsDense && aStrides.AsSpan().SequenceEqual(z.Strides) && bStrides.AsSpan().SequenceEqual(z.Strides) && cStrides.AsSpan().SequenceEqual(z.Strides))
        {
            int n = z.Numel;
            if (n < ElementwiseLoops.ParallelThreshold)
            {
                Range(op, (float*)pa, 1, (float*)pb, 1, (float*)pc, 1, (float*)pz, n);
                return;
            }
            Workers.For(n / 16, ElementwiseLoops.ParallelThreshold / 32, (s, e) =>
            {
                int start = s * 16, end = e == n / 16 ? n : e * 16;
                Range(op, (float*)pa + start, 1, (float*)pb + start, 1, (float*)pc + start, 1, (float*)pz + start, end - start);
            });
            return;
        }
        var layout = StridedLayout.Coalesce(z.Shape, z.Strides, aStrides, bStrides, cStrides);
        int inner = layout.InnerSize;
        int zs = layout.InnerStride(0), as1 = layout.InnerStride(1), bs1 = layout.InnerStride(2), cs1 = layout.InnerStride(3);
        bool vectorisable = zs == 1 && (as1 is 0 or 1) && (bs1 is 0 or 1) && (cs1 is 0 or 1);
        Workers.For(layout.OuterCount, Math.Max(1, ElementwiseLoops.ParallelThreshold / Math.Max(inner, 1)), (start, end) =>
        {
            for (int r = start; r < end; r++)
            {
                float* zp = (float*)pz + layout.RunOffset(0, r);
                float* ap = (float*)pa + layout.RunOffset(1, r);
                float* bp = (float*)pb + layout.RunOffset(2, r);
                float* cp = (float*)pc + layout.RunOffset(3, r);
                if (vectorisable) Range(op, ap, as1, bp, bs1, cp, cs1, zp, inner);
                else
                    for (int i = 0; i < inner; i++)
                        zp[(long)i * zs] = op.Invoke(ap[(long)i * as1], bp[(long)i * bs1], cp[(long)i * cs1]);
            }
        });
    }

    /// <summary>z[i] = op(a, b, c) over a unit-stride output run; each input steps by 1 or stays put (stride 0, broadcast).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Range<TOp>(TOp op, float* a, int sa, float* b, int sb, float* c, int sc, float* z, int n) where TOp : struct, ITernaryOperator
    {
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            var va = Vector512.Create(*a); var vb = Vector512.Create(*b); var vc = Vector512.Create(*c);
            for (; i <= n - 16; i += 16)
            {
                if (sa != 0) va = Vector512.Load(a + i);
                if (sb != 0) vb = Vector512.Load(b + i);
                if (sc != 0) vc = Vector512.Load(c + i);
                Vector512.Store(op.Invoke(va, vb, vc), z + i);
            }
        }
        if (Vector256.IsHardwareAccelerated)
        {
            var va = Vector256.Create(*a); var vb = Vector256.Create(*b); var vc = Vector256.Create(*c);
            for (; i <= n - 8; i += 8)
            {
                if (sa != 0) va = Vector256.Load(a + i);
                if (sb != 0) vb = Vector256.Load(b + i);
                if (sc != 0) vc = Vector256.Load(c + i);
                Vector256.Store(op.Invoke(va, vb, vc), z + i);
            }
        }
        for (; i < n; i++) z[i] = op.Invoke(a[i * sa], b[i * sb], c[i * sc]);
    }
}
