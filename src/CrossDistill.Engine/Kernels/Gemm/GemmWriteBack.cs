using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace CrossDistill.Engine.Kernels;

/// <summary>
/// How a block of accumulated products is merged into C: x = alpha·acc + beta·C, and on the last
/// k-block the epilogue (biases, activation). Later k-blocks of the same C use beta = 1, so each
/// element's sum runs over k in a fixed order whatever the threading.
/// </summary>
internal readonly unsafe struct GemmWriteBack
{
    public GemmWriteBack(float alpha, float beta, bool finishes, in GemmEpilogue epilogue)
    {
        Alpha = alpha;
        Beta = beta;
        ColumnBias = finishes ? epilogue.ColumnBias : null;
        RowBias = finishes ? epilogue.RowBias : null;
        Activation = finishes ? epilogue.Activation : GemmActivation.None;
    }

    public float Alpha { get; }
    public float Beta { get; }
    public float* ColumnBias { get; }
    public float* RowBias { get; }
    public GemmActivation Activation { get; }

    /// <summary>C = acc or C += acc: nothing the micro-kernel's own store cannot do.</summary>
    public bool IsPlain => Alpha == 1f && (Beta == 0f || Beta == 1f) && ColumnBias == null && RowBias == null && Activation == GemmActivation.None;

    /// <summary>Merges rows×cols accumulators (row stride <paramref name="accStride"/>) into C at (row, col).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Tile(float* acc, int accStride, float* c, long ldc, int rows, int cols, int row, int col)
    {
        for (int r = 0; r < rows; r++) Row(acc + (long)r * accStride, c + r * ldc, cols, row + r, col);
    }

    /// <summary>Merges one row of accumulators into C; a null <paramref name="acc"/> stands for zeros (k = 0 or alpha = 0).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Row(float* acc, float* c, int cols, int row, int col)
    {
        float alpha = Alpha, beta = Beta;
        float* columnBias = ColumnBias == null ? null : ColumnBias + col;
        bool hasRowBias = RowBias != null;
        float rowBias = hasRowBias ? RowBias[row] : 0f;
        var activation = Activation;
        int j = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            for (; j <= cols - 16; j += 16)
            {
                var x = acc == null ? Vector512<float>.Zero : Vector512.Load(acc + j) * alpha;
                if (beta == 1f) x += Vector512.Load(c + j);
                else if (beta != 0f) x = Vector512.FusedMultiplyAdd(Vector512.Create(beta), Vector512.Load(c + j), x);
                if (columnBias != null) x += Vector512.Load(columnBias + j);
                if (hasRowBias) x += Vector512.Create(rowBias);
                if (activation != GemmActivation.None) x = Activate(x, activation);
                x.Store(c + j);
            }
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            for (; j <= cols - 8; j += 8)
            {
                var x = acc == null ? Vector256<float>.Zero : Vector256.Load(acc + j) * alpha;
                if (beta == 1f) x += Vector256.Load(c + j);
                else if (beta != 0f) x = Vector256.FusedMultiplyAdd(Vector256.Create(beta), Vector256.Load(c + j), x);
                if (columnBias != null) x += Vector256.Load(columnBias + j);
                if (hasRowBias) x += Vector256.Create(rowBias);
                if (activation != GemmActivation.None) x = Activate(x, activation);
                x.Store(c + j);
            }
        }
        for (; j < cols; j++)
        {
            float x = acc == null ? 0f : acc[j] * alpha;
            if (beta == 1f) x += c[j];
            else if (beta != 0f) x = MathF.FusedMultiplyAdd(beta, c[j], x);
            if (columnBias != null) x += columnBias[j];
            if (hasRowBias) x += rowBias;
            if (activation != GemmActivation.None) x = Activate(x, activation);
            c[j] = x;
        }
    }

    private const float GeluScale = 0.7978845608028654f; // √(2/π)
    private const float GeluCubic = 0.044715f;

    // Comparisons written as x < 0 / x > 6 keep NaN flowing through, as torch's relu and clamp do.
    private static float Activate(float x, GemmActivation activation) => activation switch
    {
        GemmActivation.Relu => x < 0f ? 0f : x,
        GemmActivation.Relu6 => x < 0f ? 0f : x > 6f ? 6f : x,
        GemmActivation.GeluTanh => 0.5f * x * (1f + MathF.Tanh(GeluScale * (x + GeluCubic * x * x * x))),
        _ => x,
    };

    private static Vector512<float> Activate(Vector512<float> x, GemmActivation activation)
    {
        var zero = Vector512<float>.Zero;
        switch (activation)
        {
            case GemmActivation.Relu:
                return Vector512.ConditionalSelect(Vector512.LessThan(x, zero), zero, x);
            case GemmActivation.Relu6:
                var six = Vector512.Create(6f);
                x = Vector512.ConditionalSelect(Vector512.LessThan(x, zero), zero, x);
                return Vector512.ConditionalSelect(Vector512.GreaterThan(x, six), six, x);
            case GemmActivation.GeluTanh:
                var y = Vector512.Create(GeluScale) * (x + Vector512.Create(GeluCubic) * x * x * x);
                return Vector512.Create(0.5f) * x * (Vector512.Create(1f) + Tanh(y));
            default:
                return x;
        }
    }

    private static Vector256<float> Activate(Vector256<float> x, GemmActivation activation)
    {
        var zero = Vector256<float>.Zero;
        switch (activation)
        {
            case GemmActivation.Relu:
                return Vector256.ConditionalSelect(Vector256.LessThan(x, zero), zero, x);
            case GemmActivation.Relu6:
                var six = Vector256.Create(6f);
                x = Vector256.ConditionalSelect(Vector256.LessThan(x, zero), zero, x);
                return Vector256.ConditionalSelect(Vector256.GreaterThan(x, six), six, x);
            case GemmActivation.GeluTanh:
                var y = Vector256.Create(GeluScale) * (x + Vector256.Create(GeluCubic) * x * x * x);
                return Vector256.Create(0.5f) * x * (Vector256.Create(1f) + Tanh(y));
            default:
                return x;
        }
    }

    // tanh(y) = 1 − 2/(e^{2y} + 1): saturates cleanly to ±1 when the exponential overflows or underflows.
    private static Vector512<float> Tanh(Vector512<float> y)
    {
        var one = Vector512.Create(1f);
        return one - Vector512.Create(2f) / (Vector512.Exp(y + y) + one);
    }

    private static Vector256<float> Tanh(Vector256<float> y)
    {
        var one = Vector256.Create(1f);
        return one - Vector256.Create(2f) / (Vector256.Exp(y + y) + one);
    }
}
