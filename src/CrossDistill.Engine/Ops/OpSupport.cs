using CrossDistill.Engine.Kernels;

namespace CrossDistill.Engine;

/// <summary>Argument checks and gradient plumbing shared by the ops of this folder.</summary>
internal static class OpSupport
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

    /// <summary>Throws an ArgumentException naming <paramref name="op"/> when the inputs do not broadcast together.</summary>
    public static void CheckBroadcast(string op, params Tensor[] inputs)
    {
        var shape = inputs[0].Shape;
        for (int i = 1; i < inputs.Length; i++)
        {
            try { shape = ShapeUtil.Broadcast(shape, inputs[i].Shape); }
            catch (ArgumentException e) { throw new ArgumentException($"{op}: {e.Message} (inputs {string.Join(", ", inputs.Select(t => ShapeUtil.Format(t.Shape)))}).", e); }
        }
    }

    /// <summary>The dim normalised against x's rank, or an ArgumentOutOfRangeException naming the op and the shape.</summary>
    public static int Dim(string op, int dim, Tensor x)
    {
        int rank = Math.Max(x.Rank, 1);
        if (dim < -rank || dim >= rank)
            throw new ArgumentOutOfRangeException(nameof(dim), $"{op}: dim {dim} is out of range for shape {ShapeUtil.Format(x.Shape)}.");
        return dim < 0 ? dim + rank : dim;
    }

    /// <summary><see cref="Reduction.ReducedMask"/> with errors that name the op and the shape.</summary>
    public static bool[] ReducedMask(string op, int[]? dims, Tensor x)
    {
        try { return Reduction.ReducedMask(x.Rank, dims); }
        catch (ArgumentException e) { throw new ArgumentException($"{op}: {e.Message} (dims [{string.Join(", ", dims ?? Array.Empty<int>())}], shape {ShapeUtil.Format(x.Shape)}).", nameof(dims), e); }
    }
}
