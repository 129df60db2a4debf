namespace CrossDistill.Engine;

public static partial class Torch
{
    /// <summary>torch.bmm: [b, m, k]·[b, k, n] → [b, m, n], with equal batch sizes (no broadcasting).</summary>
    public static Tensor Bmm(Tensor a, Tensor b)
    {
        if (a.Rank != 3 || b.Rank != 3)
            throw new ArgumentException($"Bmm: both arguments must be 3-d, got shapes {ShapeUtil.Format(a.Shape)} and {ShapeUtil.Format(b.Shape)}.");
        if (a.Shape[0] != b.Shape[0])
            throw new ArgumentException($"Bmm: batch sizes differ in {ShapeUtil.Format(a.Shape)} and {ShapeUtil.Format(b.Shape)}.");
        return MatrixProductOp(a, b, "BmmBackward", "Bmm");
    }
}

public sealed partial class Tensor
{
    /// <summary>torch.bmm(this, other).</summary>
    public Tensor Bmm(Tensor other) => Torch.Bmm(this, other);
}
