using System.Runtime.CompilerServices;

namespace CrossDistill.Engine.Kernels;

/// <summary>Copies between tensors of the same shape and any strides (the heart of Contiguous()).</summary>
public static unsafe class StridedCopy
{
    public static void Copy(Tensor src, Tensor dst)
    {
        if (!src.Shape.AsSpan().SequenceEqual(dst.Shape))
            throw new ArgumentException($"Copy needs equal shapes, got {ShapeUtil.Format(src.Shape)} and {ShapeUtil.Format(dst.Shape)}.");
        if (src.DType != dst.DType) throw new ArgumentException($"Copy needs equal dtypes, got {src.DType} and {dst.DType}.");
        if (src.Numel == 0) return;
        var layout = StridedLayout.Coalesce(dst.Shape, dst.Strides, src.Strides);
        if (src.DType == DType.Float32) Run(layout, (byte*)src.DataPtr, (byte*)dst.DataPtr, sizeof(float));
        else Run(layout, (byte*)src.LongPtr, (byte*)dst.LongPtr, sizeof(long));
    }

    private static void Run(StridedLayout layout, byte* src, byte* dst, int elementSize)
    {
        int inner = layout.InnerSize, runs = layout.OuterCount;
        int dstStride = layout.InnerStride(0), srcStride = layout.InnerStride(1);
        nint s0 = (nint)src, d0 = (nint)dst;
        int grain = Math.Max(1, (1 << 16) / Math.Max(inner, 1));
        Workers.For(runs, grain, (start, end) =>
        {
            for (int r = start; r < end; r++)
            {
                byte* d = (byte*)d0 + (long)layout.RunOffset(0, r) * elementSize;
                byte* s = (byte*)s0 + (long)layout.RunOffset(1, r) * elementSize;
                if (dstStride == 1 && srcStride == 1)
                    Buffer.MemoryCopy(s, d, (long)inner * elementSize, (long)inner * elementSize);
                else if (elementSize == 4)
                    CopyStrided((float*)s, srcStride, (float*)d, dstStride, inner);
                else
                    CopyStrided((long*)s, srcStride, (long*)d, dstStride, inner);
            }
        });
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void CopyStrided<T>(T* s, int srcStride, T* d, int dstStride, int n) where T : unmanaged
    {
        for (int i = 0; i < n; i++) d[(long)i * dstStride] = s[(long)i * srcStride];
    }
}
