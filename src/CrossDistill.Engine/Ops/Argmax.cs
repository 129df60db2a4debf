using CrossDistill.Engine.Kernels;

namespace CrossDistill.Engine;

public static partial class Torch
{
    /// <summary>Int64 indices of the largest values along <paramref name="dim"/>; the first one on ties, a NaN's if there is one.</summary>
    public static Tensor Argmax(Tensor x, int dim, bool keepDim = false)
        => SelectAlongDim(new ArgMaxComparer(), "Argmax", x, dim, keepDim, withValues: false).Indices;

    /// <summary>The flat (row-major) index of the largest element, as a 0-d int64 tensor.</summary>
    public static Tensor Argmax(Tensor x)
    {
        using var detached = x.Detach();
        using var flat = detached.Reshape(-1);
        return Argmax(flat, 0);
    }
}

public sealed partial class Tensor
{
    public Tensor Argmax(int dim, bool keepDim = false) => Torch.Argmax(this, dim, keepDim);
    public Tensor Argmax() => Torch.Argmax(this);
}
