namespace CrossDistill.Engine.Kernels;

/// <summary>The activation a fused GEMM applies to each output as it is written back.</summary>
public enum GemmActivation
{
    None,
    Relu,
    /// <summary>min(max(x, 0), 6), as in MobileNetV2.</summary>
    Relu6,
    /// <summary>0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))), torch's gelu(approximate='tanh').</summary>
    GeluTanh,
}

/// <summary>
/// Work fused into a GEMM's write-back, so a Linear or 1×1 convolution costs one pass over its
/// output: C = act(alpha·op(A)·op(B) + beta·C + columnBias[j] + rowBias[i]). A null bias is skipped.
/// Column bias suits row-major [rows, out] outputs (Linear, channels-last 1×1 conv); row bias suits
/// [out, pixels] outputs (NCHW conv as W·col).
/// </summary>
public readonly unsafe struct GemmEpilogue
{
    public GemmEpilogue(float* columnBias, float* rowBias, GemmActivation activation)
    {
        ColumnBias = columnBias;
        RowBias = rowBias;
        Activation = activation;
    }

    /// <summary>n values: bias[j] is added to every element of column j.</summary>
    public float* ColumnBias { get; }

    /// <summary>m values: bias[i] is added to every element of row i.</summary>
    public float* RowBias { get; }

    public GemmActivation Activation { get; }

    public bool IsNone => ColumnBias == null && RowBias == null && Activation == GemmActivation.None;

    public static GemmEpilogue WithColumnBias(float* bias, GemmActivation activation = GemmActivation.None) => new(bias, null, activation);

    public static GemmEpilogue WithRowBias(float* bias, GemmActivation activation = GemmActivation.None) => new(null, bias, activation);

    public static GemmEpilogue WithActivation(GemmActivation activation) => new(null, null, activation);
}
