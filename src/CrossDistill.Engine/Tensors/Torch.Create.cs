namespace CrossDistill.Engine;

/// <summary>Tensor creation and tensor math, named as in PyTorch's torch namespace.</summary>
public static unsafe partial class Torch
{
    public static void ManualSeed(ulong seed) => Generator.Default.ManualSeed(seed);

    public static Tensor Empty(params int[] shape) => Tensor.Empty((int[])shape.Clone());

    public static Tensor Zeros(params int[] shape) => Tensor.Empty((int[])shape.Clone(), zero: true);

    public static Tensor Zeros(int[] shape, DType dtype) => Tensor.Empty((int[])shape.Clone(), dtype, zero: true);

    public static Tensor Ones(params int[] shape) => Full(shape, 1f);

    public static Tensor Full(int[] shape, float value)
    {
        var t = Tensor.Empty((int[])shape.Clone());
        t.Span.Fill(value);
        return t;
    }

    /// <summary>A 0-d tensor holding <paramref name="value"/>.</summary>
    public static Tensor Scalar(float value) => Full(Array.Empty<int>(), value);

    public static Tensor ZerosLike(Tensor t) => Tensor.EmptyLike(t, zero: true);

    public static Tensor OnesLike(Tensor t) => FullLike(t, 1f);

    public static Tensor EmptyLike(Tensor t) => Tensor.EmptyLike(t);

    public static Tensor FullLike(Tensor t, float value)
    {
        var r = Tensor.EmptyLike(t);
        r.Span.Fill(value);
        return r;
    }

    /// <summary>A float tensor holding a copy of <paramref name="data"/> in row-major order.</summary>
    public static Tensor FromArray(float[] data, params int[] shape)
    {
        if (shape.Length == 0 && data.Length != 1) shape = new[] { data.Length };
        var t = Tensor.Empty((int[])shape.Clone());
        if (data.Length != t.Numel) throw new ArgumentException($"{data.Length} values do not fill shape {ShapeUtil.Format(shape)} ({t.Numel} elements).");
        data.CopyTo(t.Span);
        return t;
    }

    public static Tensor FromArray(ReadOnlySpan<float> data, params int[] shape)
    {
        var t = Tensor.Empty((int[])shape.Clone());
        if (data.Length != t.Numel) throw new ArgumentException($"{data.Length} values do not fill shape {ShapeUtil.Format(shape)} ({t.Numel} elements).");
        data.CopyTo(t.Span);
        return t;
    }

    /// <summary>An int64 tensor holding a copy of <paramref name="data"/> in row-major order.</summary>
    public static Tensor FromArray(long[] data, params int[] shape)
    {
        if (shape.Length == 0 && data.Length != 1) shape = new[] { data.Length };
        var t = Tensor.Empty((int[])shape.Clone(), DType.Int64);
        if (data.Length != t.Numel) throw new ArgumentException($"{data.Length} values do not fill shape {ShapeUtil.Format(shape)} ({t.Numel} elements).");
        data.CopyTo(t.LongSpan);
        return t;
    }

    public static Tensor Arange(int end) => Arange(0, end);

    public static Tensor Arange(float start, float end, float step = 1f)
    {
        int n = Math.Max(0, (int)Math.Ceiling((end - start) / step));
        var t = Tensor.Empty(new[] { n });
        var s = t.Span;
        for (int i = 0; i < n; i++) s[i] = start + i * step;
        return t;
    }

    public static Tensor ArangeLong(long end)
    {
        var t = Tensor.Empty(new[] { (int)end }, DType.Int64);
        var s = t.LongSpan;
        for (int i = 0; i < s.Length; i++) s[i] = i;
        return t;
    }

    /// <summary>Uniform in [0, 1).</summary>
    public static Tensor Rand(int[] shape, Generator? generator = null) => Uniform(shape, 0f, 1f, generator);

    public static Tensor Uniform(int[] shape, float low, float high, Generator? generator = null)
    {
        var g = generator ?? Generator.Default;
        var t = Tensor.Empty((int[])shape.Clone());
        var s = t.Span;
        for (int i = 0; i < s.Length; i++) s[i] = low + (high - low) * g.NextFloat();
        return t;
    }

    /// <summary>Standard normal.</summary>
    public static Tensor Randn(int[] shape, Generator? generator = null) => Normal(shape, 0f, 1f, generator);

    public static Tensor Normal(int[] shape, float mean, float std, Generator? generator = null)
    {
        var g = generator ?? Generator.Default;
        var t = Tensor.Empty((int[])shape.Clone());
        var s = t.Span;
        for (int i = 0; i < s.Length; i++) s[i] = (float)(mean + std * g.NextNormal());
        return t;
    }

    /// <summary>Uniform integers in [low, high) as int64.</summary>
    public static Tensor RandInt(int low, int high, int[] shape, Generator? generator = null)
    {
        var g = generator ?? Generator.Default;
        var t = Tensor.Empty((int[])shape.Clone(), DType.Int64);
        var s = t.LongSpan;
        for (int i = 0; i < s.Length; i++) s[i] = low + g.NextInt(high - low);
        return t;
    }
}
