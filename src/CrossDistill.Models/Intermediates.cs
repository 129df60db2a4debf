using CrossDistill.Engine;

namespace CrossDistill.Models;

/// <summary>
/// Frees a block's forward temporaries once consumed when no backward function reads them (see
/// <see cref="Tensor.ReleaseData"/>), as PyTorch frees them when their last reference goes, so a
/// training step's peak holds only what backward needs. Null entries (an absent shortcut) are skipped.
/// </summary>
internal static class Intermediates
{
    public static void Release(params Tensor?[] tensors)
    {
        foreach (var t in tensors) t?.ReleaseData();
    }
}
