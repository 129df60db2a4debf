namespace CrossDistill.Engine;

/// <summary>Shape arithmetic shared by tensors and ops.</summary>
public static class ShapeUtil
{
    public static int Numel(ReadOnlySpan<int> shape)
    {
        long n = 1;
        foreach (int d in shape)
        {
            if (d < 0) throw new ArgumentException($"Negative dimension in shape {Format(shape)}.");
            n *= d;
        }
        if (n > int.MaxValue) throw new ArgumentException($"Shape {Format(shape)} has more than 2^31 elements.");
        return (int)n;
    }

    public static int[] ContiguousStrides(ReadOnlySpan<int> shape)
    {
        var strides = new int[shape.Length];
        int s = 1;
        for (int i = shape.Length - 1; i >= 0; i--)
        {
            strides[i] = s;
            s *= Math.Max(shape[i], 1);
        }
        return strides;
    }

    /// <summary>Strides of an (N, C, H, W) tensor stored as NHWC, PyTorch's channels_last.</summary>
    public static int[] ChannelsLastStrides(ReadOnlySpan<int> shape)
    {
        if (shape.Length != 4) throw new ArgumentException($"Channels-last layout needs a 4-d shape, got {Format(shape)}.");
        int c = Math.Max(shape[1], 1), h = Math.Max(shape[2], 1), w = Math.Max(shape[3], 1);
        return new[] { h * w * c, 1, w * c, c };
    }

    public static int NormalizeDim(int dim, int rank)
    {
        int r = Math.Max(rank, 1);
        if (dim < -r || dim >= r) throw new ArgumentOutOfRangeException(nameof(dim), $"Dimension {dim} is out of range for a tensor of rank {rank}.");
        return dim < 0 ? dim + r : dim;
    }

    /// <summary>PyTorch's broadcasting: align trailing dims; each pair must be equal or contain a 1.</summary>
    public static int[] Broadcast(ReadOnlySpan<int> a, ReadOnlySpan<int> b)
    {
        int rank = Math.Max(a.Length, b.Length);
        var result = new int[rank];
        for (int i = 0; i < rank; i++)
        {
            int da = i < rank - a.Length ? 1 : a[i - (rank - a.Length)];
            int db = i < rank - b.Length ? 1 : b[i - (rank - b.Length)];
            if (da != db && da != 1 && db != 1)
                throw new ArgumentException($"Shapes {Format(a)} and {Format(b)} cannot be broadcast together (dimension {i}: {da} vs {db}).");
            result[i] = da == 1 ? db : da;
        }
        return result;
    }

    /// <summary>Resolves one -1 entry of a requested shape against a known element count.</summary>
    public static int[] InferShape(ReadOnlySpan<int> requested, int numel)
    {
        var shape = requested.ToArray();
        int infer = -1;
        long known = 1;
        for (int i = 0; i < shape.Length; i++)
        {
            if (shape[i] == -1)
            {
                if (infer >= 0) throw new ArgumentException($"Only one dimension can be -1 in {Format(requested)}.");
                infer = i;
            }
            else if (shape[i] < 0) throw new ArgumentException($"Invalid dimension {shape[i]} in {Format(requested)}.");
            else known *= shape[i];
        }
        if (infer >= 0)
        {
            if (known == 0 || numel % known != 0) throw new ArgumentException($"Shape {Format(requested)} is invalid for a tensor of {numel} elements.");
            shape[infer] = (int)(numel / known);
        }
        else if (known != numel) throw new ArgumentException($"Shape {Format(requested)} is invalid for a tensor of {numel} elements.");
        return shape;
    }

    public static bool SameShape(ReadOnlySpan<int> a, ReadOnlySpan<int> b) => a.SequenceEqual(b);

    public static string Format(ReadOnlySpan<int> shape) => "[" + string.Join(", ", shape.ToArray()) + "]";
}
