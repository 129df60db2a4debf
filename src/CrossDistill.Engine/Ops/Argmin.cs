using CrossDistill.Engine.Kernels;

namespace CrossDistill.Engine;

public static partial class Torch
{
    /// <summary>Int64 indices of the smallest values along <paramref name="dim"/>; the first one on ties, a NaN's if there is one.</summary>
    public static Tensor Argmin(Tensor x, int dim, bool keepDim = false)
        => SelectAlongDim(new ArgMinComparer(), "Argmin", x, dim, keepDim, withValues: false).Indices;

    /// <summary>The flat (row-major) index of the smallest element, as a 0-d int64 tensor.</summary>
    public static Tensor Argmin(Tensor x)
    {
        using var detached = x.Detach();
        using var flat = detached.Reshape(-1);
        return Argmin(flat, 0);
    }
}

public sealed partial class Tensor
{
    public Tensor Argmin(int dim, bool keepDim = false) => Torch.Argmin(this, dim, keepDim);
    public Tensor Argmin() => Torch.Argmin(this);
}
