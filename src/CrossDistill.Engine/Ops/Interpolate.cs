using System.Globalization;
using CrossDistill.Engine.Kernels;

namespace CrossDistill.Engine;

public static partial class F
{
    /// <summary>
    /// Resizes a 4-d (N, C, H, W) tensor to <paramref name="size"/> or by
    /// <paramref name="scaleFactor"/> (one of them; one value applies to both axes), as
    /// F.interpolate: "nearest" (PyTorch's legacy rule, source = floor(dst · in/out)) or "bilinear"
    /// (with or without <paramref name="alignCorners"/>). A given scale factor sets the output size
    /// floor(in · factor) and, as in PyTorch, also the source-index step 1/factor. Channels-last in,
    /// channels-last out.
    /// </summary>
    public static unsafe Tensor Interpolate(Tensor x, int[]? size = null, float[]? scaleFactor = null, string mode = "nearest", bool alignCorners = false)
    {
        var layout = SpatialLayout.Of("Interpolate", x, allowUnbatched: false);
        if (mode != "nearest" && mode != "bilinear")
            throw new ArgumentException($"Interpolate: unsupported mode '{mode}'; expected nearest or bilinear.", nameof(mode));
        if (mode == "nearest" && alignCorners)
            throw new ArgumentException("Interpolate: alignCorners can only be set with the bilinear mode.", nameof(alignCorners));
        if ((size is null) == (scaleFactor is null))
            throw new ArgumentException("Interpolate: give exactly one of size and scaleFactor.");

        int outH, outW;
        double? scaleH = null, scaleW = null;
        if (size is not null)
        {
            (outH, outW) = Pair("Interpolate", nameof(size), size);
            if (outH <= 0 || outW <= 0) throw new ArgumentException($"Interpolate: output size ({outH}, {outW}) must be positive.", nameof(size));
        }
        else
        {
            var (fh, fw) = Pair("Interpolate", nameof(scaleFactor), scaleFactor!);
            if (!(fh > 0 && fw > 0)) throw new ArgumentException($"Interpolate: scale factors ({fh}, {fw}) must be positive.", nameof(scaleFactor));
            // The float the caller wrote, read back as the double a Python script would hold.
            scaleH = double.Parse(fh.ToString("R", CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
            scaleW = double.Parse(fw.ToString("R", CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
            outH = (int)Math.Floor(layout.H * scaleH.Value);
            outW = (int)Math.Floor(layout.W * scaleW.Value);
            if (outH <= 0 || outW <= 0)
                throw new ArgumentException($"Interpolate: scale factors ({fh}, {fw}) give an empty output for input {ShapeUtil.Format(x.Shape)}.", nameof(scaleFactor));
        }
        if (layout.H == 0 || layout.W == 0)
            throw new ArgumentException($"Interpolate: cannot resize an empty image of shape {ShapeUtil.Format(x.Shape)}.", nameof(x));

        var output = layout.New(outH, outW);
        if (mode == "nearest")
        {
            var rows = Resize.NearestSources(layout.H, outH, scaleH);
            var cols = Resize.NearestSources(layout.W, outW, scaleW);
            using (var xd = layout.Data(x))
                GridMap.Gather(xd.DataPtr, output.DataPtr, layout.Planes, layout.H, layout.W, layout.Channels, rows, cols);
            if (!Autograd.ShouldRecord(x)) return output;
            return Autograd.Record(output, "UpsampleNearest2dBackward", new[] { x }, g =>
            {
                var gx = layout.New(layout.H, layout.W, zero: true);
                using var gd = layout.Data(g);
                GridMap.ScatterAdd(gd.DataPtr, gx.DataPtr, layout.Planes, layout.H, layout.W, layout.Channels, rows, cols);
                return new[] { gx };
            });
        }
        else
        {
            var rows = LinearTaps.Create(layout.H, outH, alignCorners, scaleH);
            var cols = LinearTaps.Create(layout.W, outW, alignCorners, scaleW);
            using (var xd = layout.Data(x))
                Bilinear.Forward(xd.DataPtr, output.DataPtr, layout.Planes, layout.H, layout.W, layout.Channels, rows, cols);
            if (!Autograd.ShouldRecord(x)) return output;
            return Autograd.Record(output, "UpsampleBilinear2dBackward", new[] { x }, g =>
            {
                var gx = layout.New(layout.H, layout.W, zero: true);
                using var gd = layout.Data(g);
                Bilinear.Backward(gd.DataPtr, gx.DataPtr, layout.Planes, layout.H, layout.W, layout.Channels, rows, cols);
                return new[] { gx };
            });
        }
    }

    /// <summary>(h, w) from one value (used for both) or two.</summary>
    internal static (T H, T W) Pair<T>(string op, string name, T[] values)
    {
        ArgumentNullException.ThrowIfNull(values, name);
        return values.Length switch
        {
            1 => (values[0], values[0]),
            2 => (values[0], values[1]),
            _ => throw new ArgumentException($"{op}: {name} needs 1 or 2 values, got {values.Length}.", name),
        };
    }
}
