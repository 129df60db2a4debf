using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using CrossDistill.Engine;
using CrossDistill.Engine.Kernels;
using CrossDistill.Engine.Nn;

namespace CrossDistill.Training.Runs;

/// <summary>
/// An exponential moving average of a model's weights (timm's ModelEmaV2): after every step each
/// float parameter and buffer becomes decay·ema + (1 − decay)·current; integer buffers (batch
/// counters) are copied. The average lives in its own model, evaluated beside the raw one.
/// </summary>
public sealed unsafe class ModelEma : IDisposable
{
    private readonly List<(Tensor Ema, Tensor Source)> _pairs = new();

    public ModelEma(Module<Tensor, Tensor> copy, Module<Tensor, Tensor> source, float decay)
    {
        if (!(decay > 0 && decay < 1)) throw new ArgumentOutOfRangeException(nameof(decay), $"EMA decay must be in (0, 1), got {decay}.");
        Model = copy;
        Decay = decay;
        var own = copy.StateDict();
        var theirs = source.StateDict();
        if (!own.Keys.SequenceEqual(theirs.Keys))
            throw new ArgumentException($"ModelEma: the copy's state dict keys differ from the model's ({own.Count} vs {theirs.Count} entries).");
        foreach (var (key, ema) in own)
        {
            var src = theirs[key];
            if (!ema.Shape.AsSpan().SequenceEqual(src.Shape) || ema.DType != src.DType || !ema.IsDense)
                throw new ArgumentException($"ModelEma: '{key}' does not match between the copy and the model.");
            ema.RequiresGrad = false;
            _pairs.Add((ema, src));
        }
        copy.LoadStateDict(theirs);
        copy.Eval();
    }

    public Module<Tensor, Tensor> Model { get; }

    public float Decay { get; }

    /// <summary>Moves the average towards the source model's current weights.</summary>
    public void Update()
    {
        foreach (var (ema, src) in _pairs)
        {
            if (ema.DType != DType.Float32)
            {
                ema.CopyFrom(src);
                continue;
            }
            if (SameLayout(ema, src)) Lerp(ema.DataPtr, src.DataPtr, ema.Numel, Decay);
            else
            {
                using var detached = src.Detach();
                using var aligned = Torch.EmptyLike(ema);
                aligned.CopyFrom(detached);
                Lerp(ema.DataPtr, aligned.DataPtr, ema.Numel, Decay);
            }
        }
    }

    private static bool SameLayout(Tensor a, Tensor b)
    {
        if (!b.IsDense) return false;
        for (int i = 0; i < a.Rank; i++)
            if (a.Shape[i] != 1 && a.Strides[i] != b.Strides[i]) return false;
        return true;
    }

    /// <summary>ema = decay·ema + (1 − decay)·x, as one FMA per element in every vector width (so the result is the same in all of them).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Lerp(float* ema, float* x, int n, float decay)
    {
        float rest = 1f - decay;
        if (n >= 1 << 16)
        {
            nint e = (nint)ema, s = (nint)x;
            const int block = 1 << 12;
            Workers.For((n + block - 1) / block, 4, (start, end) =>
            {
                int from = start * block, to = Math.Min(n, end * block);
                LerpRange((float*)e + from, (float*)s + from, to - from, decay, rest);
            });
            return;
        }
        LerpRange(ema, x, n, decay, rest);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void LerpRange(float* ema, float* x, int n, float decay, float rest)
    {
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            var d = Vector512.Create(decay);
            var r = Vector512.Create(rest);
            for (; i <= n - 16; i += 16)
                Vector512.Store(Vector512.FusedMultiplyAdd(Vector512.Load(ema + i), d, Vector512.Load(x + i) * r), ema + i);
        }
        if (Vector256.IsHardwareAccelerated)
        {
            var d = Vector256.Create(decay);
            var r = Vector256.Create(rest);
            for (; i <= n - 8; i += 8)
                Vector256.Store(Vector256.FusedMultiplyAdd(Vector256.Load(ema + i), d, Vector256.Load(x + i) * r), ema + i);
        }
        for (; i < n; i++) ema[i] = MathF.FusedMultiplyAdd(ema[i], decay, x[i] * rest);
    }

    public void Dispose() => Model.Dispose();
}
