using CrossDistill.Engine.Kernels;

namespace CrossDistill.Engine;

public static partial class F
{
    /// <summary>
    /// Pads (or, with negative amounts in constant mode, crops) the last dims of <paramref name="x"/>
    /// (F.pad). <paramref name="pad"/> lists (before, after) pairs starting from the last dim:
    /// (left, right, top, bottom, …). Modes: "constant" fills with <paramref name="value"/> on any
    /// number of dims; "reflect" mirrors without repeating the edge and "replicate" repeats the edge,
    /// both on the last one or two dims. A channels-last input gives a channels-last output.
    /// </summary>
    public static unsafe Tensor Pad(Tensor x, int[] pad, string mode = "constant", float value = 0f)
    {
        ArgumentNullException.ThrowIfNull(pad);
        if (pad.Length % 2 != 0 || pad.Length / 2 > x.Rank)
            throw new ArgumentException($"Pad: padding ({string.Join(", ", pad)}) needs (before, after) pairs for at most the {x.Rank} dims of shape {ShapeUtil.Format(x.Shape)}.", nameof(pad));
        int padded = pad.Length / 2;
        var shape = (int[])x.Shape.Clone();
        for (int k = 0; k < padded; k++)
        {
            int d = x.Rank - 1 - k;
            shape[d] += pad[2 * k] + pad[2 * k + 1];
            if (shape[d] < 0)
                throw new ArgumentException($"Pad: padding ({string.Join(", ", pad)}) makes dimension {d} of shape {ShapeUtil.Format(x.Shape)} negative.", nameof(pad));
        }
        return mode switch
        {
            "constant" => PadConstant(x, pad, shape, value),
            "reflect" or "replicate" => PadEdges(x, pad, shape, mode),
            _ => throw new ArgumentException($"Pad: unknown mode '{mode}'; expected constant, reflect or replicate.", nameof(mode)),
        };
    }

    private static Tensor PadConstant(Tensor x, int[] pad, int[] shape, float value)
    {
        if (x.DType != DType.Float32) throw new ArgumentException($"Pad: expected a float32 tensor, got {x.DType}.", nameof(x));
        var output = DataLayout.Empty(shape, DataLayout.IsChannelsLastInput(x));
        if (output.Numel > 0) output.Span.Fill(value);
        // The part of x that survives cropping, and where it lands in the output.
        var region = (int[])x.Shape.Clone();
        int inOffset = x.Offset, outOffset = 0;
        bool empty = false;
        for (int k = 0; k < pad.Length / 2; k++)
        {
            int d = x.Rank - 1 - k, before = pad[2 * k], after = pad[2 * k + 1];
            region[d] = x.Shape[d] - Math.Max(0, -before) - Math.Max(0, -after);
            if (region[d] <= 0) empty = true;
            inOffset += Math.Max(0, -before) * x.Strides[d];
            outOffset += Math.Max(0, before) * output.Strides[d];
        }
        if (!empty && output.Numel > 0)
        {
            using var source = DataLayout.RawView(x, (int[])region.Clone(), (int[])x.Strides.Clone(), inOffset);
            using var target = DataLayout.RawView(output, region, (int[])output.Strides.Clone(), outOffset);
            StridedCopy.Copy(source, target);
        }
        if (!Autograd.ShouldRecord(x)) return output;
        // Undoing a pad is the opposite pad: cropped parts of x come back as zeros.
        var inverse = pad.Select(p => -p).ToArray();
        return Autograd.Record(output, "PadBackward", new[] { x }, g => new[] { Pad(g, inverse) });
    }

    private static unsafe Tensor PadEdges(Tensor x, int[] pad, int[] shape, string mode)
    {
        if (x.DType != DType.Float32) throw new ArgumentException($"Pad: expected a float32 tensor, got {x.DType}.", nameof(x));
        int padded = pad.Length / 2;
        if (padded > 2) throw new ArgumentException($"Pad: {mode} padding covers the last 1 or 2 dims, got ({string.Join(", ", pad)}).", nameof(pad));
        bool reflect = mode == "reflect";
        for (int k = 0; k < padded; k++)
        {
            int d = x.Rank - 1 - k, size = x.Shape[d];
            foreach (int p in new[] { pad[2 * k], pad[2 * k + 1] })
            {
                if (p < 0) throw new ArgumentException($"Pad: {mode} padding must not be negative, got ({string.Join(", ", pad)}).", nameof(pad));
                if (reflect && p >= size)
                    throw new ArgumentException($"Pad: reflect padding {p} must be smaller than dimension {d} of size {size} (shape {ShapeUtil.Format(x.Shape)}).", nameof(pad));
                if (p > 0 && size == 0)
                    throw new ArgumentException($"Pad: cannot {mode}-pad dimension {d} of size 0 (shape {ShapeUtil.Format(x.Shape)}).", nameof(pad));
            }
        }

        // Seen as [planes, H, W, channels]: the padded dims are H (if any) and W.
        bool channelsLast = DataLayout.IsChannelsLastInput(x);
        int rank = x.Rank, width = x.Shape[rank - 1], height = rank >= 2 ? x.Shape[rank - 2] : 1;
        int channels = channelsLast ? x.Shape[1] : 1;
        int planes = 1;
        for (int d = 0; d < rank - 2; d++) if (!(channelsLast && d == 1)) planes *= x.Shape[d];
        var cols = EdgeSources(width, pad[0], pad[1], reflect);
        var rows = padded == 2 ? EdgeSources(height, pad[2], pad[3], reflect) : EdgeSources(height, 0, 0, reflect);

        var output = DataLayout.Empty(shape, channelsLast);
        using (var xd = channelsLast ? DataLayout.ChannelsLast(x) : DataLayout.Contiguous(x))
            GridMap.Gather(xd.DataPtr, output.DataPtr, planes, height, width, channels, rows, cols);
        if (!Autograd.ShouldRecord(x)) return output;
        var inputShape = x.Shape;
        return Autograd.Record(output, "PadBackward", new[] { x }, g =>
        {
            var gx = DataLayout.Empty(inputShape, channelsLast, zero: true);
            using var gd = channelsLast ? DataLayout.ChannelsLast(g) : DataLayout.Contiguous(g);
            GridMap.ScatterAdd(gd.DataPtr, gx.DataPtr, planes, height, width, channels, rows, cols);
            return new[] { gx };
        });
    }

    /// <summary>For each output position along a padded axis, the input position it copies.</summary>
    private static int[] EdgeSources(int size, int before, int after, bool reflect)
    {
        var sources = new int[size + before + after];
        for (int o = 0; o < sources.Length; o++)
        {
            int i = o - before;
            sources[o] = reflect
                ? (i < 0 ? -i : i >= size ? 2 * (size - 1) - i : i)
                : Math.Clamp(i, 0, size - 1);
        }
        return sources;
    }
}
