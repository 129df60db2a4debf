namespace CrossDistill.Engine;

/// <summary>Element types a tensor can hold: float32 for values, int64 for indices and labels.</summary>
public enum DType
{
    Float32,
    Int64,
}

public static class DTypeExtensions
{
    public static int ElementSize(this DType dtype) => dtype switch
    {
        DType.Float32 => 4,
        DType.Int64 => 8,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype)),
    };
}
