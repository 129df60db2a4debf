namespace CrossDistill.Engine.Kernels;

/// <summary>
/// gather and scatter_add along one dim. The index (row-major) is walked in lines along that dim;
/// a line's other coordinates fix where it sits in every operand. Lines of a scatter touch disjoint
/// destination elements, so workers take whole lines and each element sums in index order.
/// </summary>
internal static unsafe class GatherScatter
{
    /// <summary>out[…, j, …] = x[…, index[…, j, …], …] over the index's shape.</summary>
    public static void Gather(float* x, int[] xStrides, long* index, int[] indexShape, float* output, int[] outStrides, int dim)
        => Run(x, xStrides, index, indexShape, output, outStrides, dim, scatter: false);

    /// <summary>dst[…, index[…, j, …], …] += src[…, j, …] over the index's shape.</summary>
    public static void ScatterAdd(float* dst, int[] dstStrides, long* index, int[] indexShape, float* src, int[] srcStrides, int dim)
        => Run(dst, dstStrides, index, indexShape, src, srcStrides, dim, scatter: true);

    /// <summary><paramref name="indexed"/> is addressed through the index along dim, <paramref name="dense"/> by position.</summary>
    private static void Run(float* indexed, int[] indexedStrides, long* index, int[] shape, float* dense, int[] denseStrides, int dim, bool scatter)
    {
        int rank = shape.Length;
        int length = shape[dim];
        int count = ShapeUtil.Numel(shape);
        if (count == 0) return;
        int lines = count / length;
        var indexStrides = ShapeUtil.ContiguousStrides(shape);
        int indexStep = indexStrides[dim], indexedStep = indexedStrides[dim], denseStep = denseStrides[dim];
        nint pIndexed = (nint)indexed, pIndex = (nint)index, pDense = (nint)dense;
        Workers.For(lines, Math.Max(1, (1 << 14) / length), (start, end) =>
        {
            for (int line = start; line < end; line++)
            {
                long atIndexed = 0, atIndex = 0, atDense = 0;
                int rest = line;
                for (int d = rank - 1; d >= 0; d--)
                {
                    if (d == dim) continue;
                    int c = rest % shape[d];
                    rest /= shape[d];
                    atIndexed += (long)c * indexedStrides[d];
                    atIndex += (long)c * indexStrides[d];
                    atDense += (long)c * denseStrides[d];
                }
                float* xi = (float*)pIndexed + atIndexed;
                long* ii = (long*)pIndex + atIndex;
                float* xd = (float*)pDense + atDense;
                if (scatter)
                    for (int j = 0; j < length; j++) xi[ii[(long)j * indexStep] * indexedStep] += xd[(long)j * denseStep];
                else
                    for (int j = 0; j < length; j++) xd[(long)j * denseStep] = xi[ii[(long)j * indexStep] * indexedStep];
            }
        });
    }
}
