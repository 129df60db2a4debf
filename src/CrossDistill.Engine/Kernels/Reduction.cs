using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace CrossDistill.Engine.Kernels;

/// <summary>An associative reduction (sum, max, min) with scalar and vector bodies.</summary>
public interface IReduceOperator
{
    float Identity { get; }
    float Invoke(float x, float y);
    Vector512<float> Invoke(Vector512<float> x, Vector512<float> y);
    float Horizontal(Vector512<float> x);
}

public struct SumReduce : IReduceOperator
{
    public float Identity => 0f;
    public float Invoke(float x, float y) => x + y;
    public Vector512<float> Invoke(Vector512<float> x, Vector512<float> y) => x + y;
    public float Horizontal(Vector512<float> x) => Vector512.Sum(x);
}

public struct MaxReduce : IReduceOperator
{
    public float Identity => float.NegativeInfinity;
    // NaN propagates, as in PyTorch's max.
    public float Invoke(float x, float y) => float.IsNaN(x) || x > y ? x : y;
    public Vector512<float> Invoke(Vector512<float> x, Vector512<float> y) => Vector512.MaxNative(x, y);
    public float Horizontal(Vector512<float> x)
    {
        float m = float.NegativeInfinity;
        for (int i = 0; i < 16; i++) m = Invoke(m, x[i]);
        return m;
    }
}

public struct MinReduce : IReduceOperator
{
    public float Identity => float.PositiveInfinity;
    public float Invoke(float x, float y) => float.IsNaN(x) || x < y ? x : y;
    public Vector512<float> Invoke(Vector512<float> x, Vector512<float> y) => Vector512.MinNative(x, y);
    public float Horizontal(Vector512<float> x)
    {
        float m = float.PositiveInfinity;
        for (int i = 0; i < 16; i++) m = Invoke(m, x[i]);
        return m;
    }
}

/// <summary>
/// Reduces a tensor over a set of dims. Two layouts are handled directly: the reduced dims stored
/// innermost (a row reduction, vectorised along each row) and the reduced dims stored outermost (a
/// column reduction, vectorised across the kept elements: batch-norm statistics of a channels-last
/// tensor, bias gradients). Anything else is first copied into the row form. Each output's
/// accumulation order depends only on the shape, so results are the same on any thread count.
/// </summary>
public static unsafe class Reduction
{
    /// <summary>The output shape of reducing <paramref name="dims"/> (normalised, any order).</summary>
    public static int[] OutputShape(int[] shape, bool[] reduced, bool keepDim)
    {
        var result = new List<int>();
        for (int i = 0; i < shape.Length; i++)
            if (!reduced[i]) result.Add(shape[i]);
            else if (keepDim) result.Add(1);
        return result.ToArray();
    }

    public static bool[] ReducedMask(int rank, int[]? dims)
    {
        var mask = new bool[rank];
        if (dims is null || dims.Length == 0) { Array.Fill(mask, true); return mask; }
        foreach (int d in dims)
        {
            int n = ShapeUtil.NormalizeDim(d, rank);
            if (mask[n]) throw new ArgumentException($"Dimension {d} appears twice in the reduction dims.");
            mask[n] = true;
        }
        return mask;
    }

    /// <summary>Reduces <paramref name="x"/> over the dims flagged in <paramref name="reduced"/>.</summary>
    public static Tensor Reduce<TOp>(TOp op, Tensor x, bool[] reduced, bool keepDim) where TOp : struct, IReduceOperator
    {
        var outShapeKeep = OutputShape(x.Shape, reduced, keepDim: true);
        int rowLength = 1;
        for (int i = 0; i < x.Rank; i++) if (reduced[i]) rowLength *= x.Shape[i];

        Tensor result;
        if (x.Numel == 0 || rowLength == 0)
        {
            result = Torch.Full(outShapeKeep, op.Identity);
        }
        else if (x.IsDense)
        {
            var order = PhysicalOrder(x);
            int reducedCount = reduced.Count(r => r);
            bool inner = order.Skip(order.Length - reducedCount).All(d => reduced[d] || x.Shape[d] == 1);
            bool outer = order.Take(reducedCount).All(d => reduced[d] || x.Shape[d] == 1);
            if (inner || outer)
            {
                // Output in the same physical order as the kept dims of x.
                result = Tensor.Empty(outShapeKeep, KeptStrides(outShapeKeep, order));
                int outCount = result.Numel;
                if (inner) RowReduce(op, x.DataPtr, result.DataPtr, outCount, rowLength);
                else ColumnReduce(op, x.DataPtr, result.DataPtr, rowLength, outCount);
            }
            else result = ReduceViaCopy(op, x, reduced, outShapeKeep, rowLength);
        }
        else result = ReduceViaCopy(op, x, reduced, outShapeKeep, rowLength);

        if (keepDim) return result;
        var squeezed = result.Reshape(OutputShape(x.Shape, reduced, keepDim: false));
        if (!ReferenceEquals(squeezed, result)) result.Dispose();
        return squeezed;
    }

    private static Tensor ReduceViaCopy<TOp>(TOp op, Tensor x, bool[] reduced, int[] outShapeKeep, int rowLength) where TOp : struct, IReduceOperator
    {
        var perm = Enumerable.Range(0, x.Rank).Where(d => !reduced[d]).Concat(Enumerable.Range(0, x.Rank).Where(d => reduced[d])).ToArray();
        using var detached = x.Detach();
        using var permuted = detached.Permute(perm);
        using var rows = permuted.Contiguous();
        var result = Tensor.Empty(outShapeKeep);
        RowReduce(op, rows.DataPtr, result.DataPtr, result.Numel, rowLength);
        return result;
    }

    /// <summary>Dims of a dense tensor from outermost to innermost in memory.</summary>
    internal static int[] PhysicalOrder(Tensor x)
        => Enumerable.Range(0, x.Rank).OrderByDescending(d => x.Strides[d]).ThenBy(d => d).ToArray();

    private static int[] KeptStrides(int[] outShape, int[] order)
    {
        var strides = new int[outShape.Length];
        int s = 1;
        for (int i = order.Length - 1; i >= 0; i--)
        {
            strides[order[i]] = s;
            s *= outShape[order[i]];
        }
        return strides;
    }

    private static void RowReduce<TOp>(TOp op, float* x, float* y, int rows, int length) where TOp : struct, IReduceOperator
    {
        nint px = (nint)x, py = (nint)y;
        Workers.For(rows, Math.Max(1, (1 << 15) / Math.Max(length, 1)), (start, end) =>
        {
            for (int r = start; r < end; r++)
                ((float*)py)[r] = ReduceRow(op, (float*)px + (long)r * length, length);
        });
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float ReduceRow<TOp>(TOp op, float* x, int n) where TOp : struct, IReduceOperator
    {
        int i = 0;
        float acc = op.Identity;
        if (Vector512.IsHardwareAccelerated && n >= 16)
        {
            var id = Vector512.Create(op.Identity);
            Vector512<float> a0 = id, a1 = id, a2 = id, a3 = id;
            for (; i <= n - 64; i += 64)
            {
                a0 = op.Invoke(a0, Vector512.Load(x + i));
                a1 = op.Invoke(a1, Vector512.Load(x + i + 16));
                a2 = op.Invoke(a2, Vector512.Load(x + i + 32));
                a3 = op.Invoke(a3, Vector512.Load(x + i + 48));
            }
            for (; i <= n - 16; i += 16) a0 = op.Invoke(a0, Vector512.Load(x + i));
            acc = op.Horizontal(op.Invoke(op.Invoke(a0, a1), op.Invoke(a2, a3)));
        }
        for (; i < n; i++) acc = op.Invoke(acc, x[i]);
        return acc;
    }

    /// <summary>y[j] = reduce over i of x[i, j] for a [rows, cols] row-major block.</summary>
    private static void ColumnReduce<TOp>(TOp op, float* x, float* y, int rows, int cols) where TOp : struct, IReduceOperator
    {
        nint px = (nint)x, py = (nint)y;
        // Split the columns into blocks of 16 so each output's order of accumulation is fixed.
        int blocks = (cols + 15) / 16;
        Workers.For(blocks, Math.Max(1, (1 << 15) / Math.Max(rows * 16, 1)), (start, end) =>
        {
            int c0 = start * 16, c1 = Math.Min(cols, end * 16);
            ColumnRange(op, (float*)px, (float*)py, rows, cols, c0, c1);
        });
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ColumnRange<TOp>(TOp op, float* x, float* y, int rows, int cols, int c0, int c1) where TOp : struct, IReduceOperator
    {
        int c = c0;
        if (Vector512.IsHardwareAccelerated)
        {
            for (; c <= c1 - 16; c += 16)
            {
                var acc = Vector512.Create(op.Identity);
                for (int r = 0; r < rows; r++) acc = op.Invoke(acc, Vector512.Load(x + (long)r * cols + c));
                Vector512.Store(acc, y + c);
            }
        }
        for (; c < c1; c++)
        {
            float acc = op.Identity;
            for (int r = 0; r < rows; r++) acc = op.Invoke(acc, x[(long)r * cols + c]);
            y[c] = acc;
        }
    }
}
