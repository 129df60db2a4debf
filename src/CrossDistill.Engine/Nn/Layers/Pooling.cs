namespace CrossDistill.Engine.Nn;

/// <summary>
/// torch.nn.MaxPool2d: <c>stride</c> defaults to the kernel size; one-element arrays apply to both
/// axes. Indices are not returned (return_indices is not supported).
/// </summary>
public sealed class MaxPool2d : Module<Tensor, Tensor>
{
    public int[] KernelSize { get; }
    public int[] Stride { get; }
    public int[] Padding { get; }
    public int[] Dilation { get; }
    public bool CeilMode { get; }

    public MaxPool2d(int kernelSize, int? stride = null, int padding = 0, int dilation = 1, bool ceilMode = false)
        : this(new[] { kernelSize }, stride is int s ? new[] { s } : null, new[] { padding }, new[] { dilation }, ceilMode) { }

    public MaxPool2d(int[] kernelSize, int[]? stride = null, int[]? padding = null, int[]? dilation = null, bool ceilMode = false)
    {
        KernelSize = Pooling.Pair("MaxPool2d", nameof(kernelSize), kernelSize);
        Stride = stride is null ? KernelSize : Pooling.Pair("MaxPool2d", nameof(stride), stride);
        Padding = padding is null ? new[] { 0, 0 } : Pooling.Pair("MaxPool2d", nameof(padding), padding);
        Dilation = dilation is null ? new[] { 1, 1 } : Pooling.Pair("MaxPool2d", nameof(dilation), dilation);
        CeilMode = ceilMode;
    }

    public override Tensor Forward(Tensor x) => F.MaxPool2d(x, KernelSize, Stride, Padding, Dilation, CeilMode);
}

/// <summary>torch.nn.AvgPool2d (divisor_override is not supported).</summary>
public sealed class AvgPool2d : Module<Tensor, Tensor>
{
    public int[] KernelSize { get; }
    public int[] Stride { get; }
    public int[] Padding { get; }
    public bool CeilMode { get; }
    public bool CountIncludePad { get; }

    public AvgPool2d(int kernelSize, int? stride = null, int padding = 0, bool ceilMode = false, bool countIncludePad = true)
        : this(new[] { kernelSize }, stride is int s ? new[] { s } : null, new[] { padding }, ceilMode, countIncludePad) { }

    public AvgPool2d(int[] kernelSize, int[]? stride = null, int[]? padding = null, bool ceilMode = false, bool countIncludePad = true)
    {
        KernelSize = Pooling.Pair("AvgPool2d", nameof(kernelSize), kernelSize);
        Stride = stride is null ? KernelSize : Pooling.Pair("AvgPool2d", nameof(stride), stride);
        Padding = padding is null ? new[] { 0, 0 } : Pooling.Pair("AvgPool2d", nameof(padding), padding);
        CeilMode = ceilMode;
        CountIncludePad = countIncludePad;
    }

    public override Tensor Forward(Tensor x) => F.AvgPool2d(x, KernelSize, Stride, Padding, CeilMode, CountIncludePad);
}

/// <summary>torch.nn.AdaptiveAvgPool2d to a fixed output size.</summary>
public sealed class AdaptiveAvgPool2d : Module<Tensor, Tensor>
{
    public int OutH { get; }
    public int OutW { get; }

    public AdaptiveAvgPool2d(int outSize) : this(outSize, outSize) { }

    public AdaptiveAvgPool2d(int outH, int outW) => (OutH, OutW) = Pooling.OutputSize("AdaptiveAvgPool2d", outH, outW);

    public override Tensor Forward(Tensor x) => F.AdaptiveAvgPool2d(x, OutH, OutW);
}

/// <summary>torch.nn.AdaptiveMaxPool2d to a fixed output size (indices are not returned).</summary>
public sealed class AdaptiveMaxPool2d : Module<Tensor, Tensor>
{
    public int OutH { get; }
    public int OutW { get; }

    public AdaptiveMaxPool2d(int outSize) : this(outSize, outSize) { }

    public AdaptiveMaxPool2d(int outH, int outW) => (OutH, OutW) = Pooling.OutputSize("AdaptiveMaxPool2d", outH, outW);

    public override Tensor Forward(Tensor x) => F.AdaptiveMaxPool2d(x, OutH, OutW);
}

/// <summary>torch.nn.Flatten: merges dims <c>startDim</c>..<c>endDim</c> (by default all but the batch dim).</summary>
public sealed class Flatten : Module<Tensor, Tensor>
{
    public int StartDim { get; }
    public int EndDim { get; }

    public Flatten(int startDim = 1, int endDim = -1) => (StartDim, EndDim) = (startDim, endDim);

    public override Tensor Forward(Tensor x) => x.Flatten(StartDim, EndDim);
}

internal static class Pooling
{
    /// <summary>A (height, width) pair from one value (both axes) or two.</summary>
    public static int[] Pair(string layer, string argument, int[] values)
    {
        ArgumentNullException.ThrowIfNull(values, argument);
        return values.Length switch
        {
            1 => new[] { values[0], values[0] },
            2 => (int[])values.Clone(),
            _ => throw new ArgumentException($"{layer}: {argument} needs 1 or 2 values, got [{string.Join(", ", values)}].", argument),
        };
    }

    public static (int, int) OutputSize(string layer, int outH, int outW)
    {
        if (outH < 1 || outW < 1) throw new ArgumentException($"{layer}: the output size ({outH}, {outW}) must be positive.");
        return (outH, outW);
    }
}
