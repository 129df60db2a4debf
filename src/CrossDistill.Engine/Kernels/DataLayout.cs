namespace CrossDistill.Engine.Kernels;

/// <summary>
/// Layout conversions for kernels that need a particular memory order. They go through a detached
/// view, so nothing is recorded: the calling op records its own backward on the original input.
/// </summary>
internal static unsafe class DataLayout
{
    /// <summary>A row-major tensor with the values of <paramref name="t"/> (an alias when it already is one).</summary>
    public static Tensor Contiguous(Tensor t)
    {
        using var detached = t.Detach();
        return detached.Contiguous();
    }

    /// <summary>An NHWC-stored tensor with the values of <paramref name="t"/> (an alias when it already is one).</summary>
    public static Tensor ChannelsLast(Tensor t)
    {
        using var detached = t.Detach();
        return detached.ContiguousChannelsLast();
    }

    /// <summary>
    /// True for a 4-d tensor stored NHWC that is not also row-major (size-1 dims make both hold at
    /// once; the row-major kernels serve those).
    /// </summary>
    public static bool IsChannelsLastInput(Tensor t) => t.Rank == 4 && t.IsChannelsLast && !t.IsContiguous;

    /// <summary>A new float tensor, stored NHWC when <paramref name="channelsLast"/>, else row-major.</summary>
    public static Tensor Empty(int[] shape, bool channelsLast, bool zero = false, DType dtype = DType.Float32)
        => channelsLast ? Tensor.Empty(shape, ShapeUtil.ChannelsLastStrides(shape), dtype, zero) : Tensor.Empty(shape, dtype, zero);

    /// <summary>The address of element [0, 0, …] whatever the dtype.</summary>
    public static byte* BytePointer(Tensor t) => (byte*)t.Storage.Pointer + (long)t.Offset * t.DType.ElementSize();

    /// <summary>A view of <paramref name="t"/> with new shape and strides, outside the autograd graph.</summary>
    public static Tensor RawView(Tensor t, int[] shape, int[] strides, int offset) => t.ViewOf(shape, strides, offset);
}
