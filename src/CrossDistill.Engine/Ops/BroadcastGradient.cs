namespace CrossDistill.Engine;

/// <summary>Gradient plumbing shared by the broadcasting ops of this folder.</summary>
internal static class BroadcastGradient
{
    /// <summary>
    /// Sums a full-size gradient down to an input's (broadcast) shape and frees the full-size
    /// temporary when a new tensor was made, so backward through a broadcast keeps memory flat.
    /// </summary>
    public static Tensor ReduceTo(Tensor full, int[] shape)
    {
        var reduced = full.SumTo(shape);
        if (!ReferenceEquals(reduced, full)) full.Dispose();
        return reduced;
    }
}
