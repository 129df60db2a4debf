namespace CrossDistill.Engine.Kernels;

/// <summary>
/// Shape and strides of several same-shaped operands with dimensions merged wherever every
/// operand is contiguous across them, so kernels see as few and as long inner runs as possible.
/// </summary>
internal readonly struct StridedLayout
{
    public readonly int[] Shape;
    public readonly int[][] Strides;

    private StridedLayout(int[] shape, int[][] strides)
    {
        Shape = shape;
        Strides = strides;
    }

    public int Rank => Shape.Length;
    public int InnerSize => Shape.Length == 0 ? 1 : Shape[^1];
    public int InnerStride(int operand) => Strides[operand].Length == 0 ? 1 : Strides[operand][^1];

    /// <summary>Number of inner runs (product of all but the last dimension).</summary>
    public int OuterCount
    {
        get
        {
            int n = 1;
            for (int i = 0; i < Shape.Length - 1; i++) n *= Shape[i];
            return n;
        }
    }

    /// <summary>
    /// Orders the dims by the first operand's strides (outermost first) so that inner runs follow
    /// its memory order (channels-last included), then merges what can be merged.
    /// </summary>
    public static StridedLayout Coalesce(int[] shape, params int[][] strides)
    {
        var order = Enumerable.Range(0, shape.Length).OrderByDescending(d => strides[0][d]).ThenBy(d => d).ToArray();
        shape = order.Select(d => shape[d]).ToArray();
        strides = strides.Select(s => order.Select(d => s[d]).ToArray()).ToArray();
        var dims = new List<int>();
        var st = strides.Select(_ => new List<int>()).ToArray();
        for (int d = 0; d < shape.Length; d++)
        {
            if (shape[d] == 1) continue;
            // Merge dim d into the previous (outer) one when outer stride = inner stride × inner size for all operands.
            if (dims.Count > 0 && MergeOuter(dims, st, shape[d], strides, d)) continue;
            dims.Add(shape[d]);
            for (int o = 0; o < strides.Length; o++) st[o].Add(strides[o][d]);
        }
        if (dims.Count == 0)
        {
            dims.Add(1);
            foreach (var s in st) s.Add(1);
        }
        return new StridedLayout(dims.ToArray(), st.Select(s => s.ToArray()).ToArray());
    }

    private static bool MergeOuter(List<int> dims, List<int>[] st, int size, int[][] strides, int d)
    {
        for (int o = 0; o < strides.Length; o++)
            if (st[o][^1] != strides[o][d] * size) return false;
        dims[^1] *= size;
        for (int o = 0; o < strides.Length; o++) st[o][^1] = strides[o][d];
        return true;
    }

    /// <summary>Element offset of the start of inner run <paramref name="run"/> for one operand.</summary>
    public int RunOffset(int operand, int run)
    {
        int offset = 0;
        var s = Strides[operand];
        for (int d = Shape.Length - 2; d >= 0; d--)
        {
            int size = Shape[d];
            offset += run % size * s[d];
            run /= size;
        }
        return offset;
    }
}
