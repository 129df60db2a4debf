namespace CrossDistill.Engine.Kernels;

/// <summary>
/// The input positions each output position of a pooling reads along one axis: Start (the first
/// in-bounds tap), End (exclusive, clipped to the input) and Step (the dilation), plus the divisor
/// factor an average uses. Pooling windows are separable, so a 2-d window is a row axis by a
/// column axis, and its divisor the product of the two factors.
/// </summary>
internal sealed class PoolWindows
{
    public required int[] Start, End, Divisor;
    public int Step { get; init; } = 1;

    public int Length => Start.Length;

    /// <summary>PyTorch's pooling_output_shape (floor or ceil, the last window starting inside the input or its left padding).</summary>
    public static int OutputSize(int input, int kernel, int stride, int pad, int dilation, bool ceilMode)
    {
        long span = (long)input + 2L * pad - (long)dilation * (kernel - 1) - 1 + (ceilMode ? stride - 1 : 0);
        long size = (long)Math.Floor((double)span / stride) + 1;
        if (ceilMode && (size - 1) * stride >= input + pad) size--;
        return (int)size;
    }

    /// <summary>Sliding max-pool windows: taps start, start + dilation, … that fall inside the input.</summary>
    public static PoolWindows Max(int input, int output, int kernel, int stride, int pad, int dilation)
    {
        var w = new PoolWindows { Start = new int[output], End = new int[output], Divisor = new int[output], Step = dilation };
        for (int o = 0; o < output; o++)
        {
            long start = (long)o * stride - pad;
            long end = Math.Min(start + (long)(kernel - 1) * dilation + 1, input);
            while (start < 0) start += dilation;
            w.Start[o] = (int)start;
            w.End[o] = (int)end;
            w.Divisor[o] = 1;
        }
        return w;
    }

    /// <summary>
    /// Sliding average-pool windows. The divisor counts the window cut at the padded border when
    /// <paramref name="countIncludePad"/>, else only the taps inside the input (PyTorch's rule).
    /// </summary>
    public static PoolWindows Average(int input, int output, int kernel, int stride, int pad, bool countIncludePad)
    {
        var w = new PoolWindows { Start = new int[output], End = new int[output], Divisor = new int[output] };
        for (int o = 0; o < output; o++)
        {
            long start = (long)o * stride - pad;
            long end = Math.Min(start + kernel, (long)input + pad);
            long padded = end - start;
            start = Math.Max(start, 0);
            end = Math.Min(end, input);
            w.Start[o] = (int)start;
            w.End[o] = (int)end;
            w.Divisor[o] = (int)(countIncludePad ? padded : Math.Max(end - start, 0));
        }
        return w;
    }

    /// <summary>Adaptive bins: [floor(o·in/out), ceil((o+1)·in/out)).</summary>
    public static PoolWindows Adaptive(int input, int output)
    {
        var w = new PoolWindows { Start = new int[output], End = new int[output], Divisor = new int[output] };
        for (int o = 0; o < output; o++)
        {
            w.Start[o] = (int)((long)o * input / output);
            w.End[o] = (int)(((long)(o + 1) * input + output - 1) / output);
            w.Divisor[o] = w.End[o] - w.Start[o];
        }
        return w;
    }
}
