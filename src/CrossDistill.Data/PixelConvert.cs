using System.Numerics;
using System.Runtime.Intrinsics;

namespace CrossDistill.Data;

/// <summary>Conversions between 8-bit pixels and floats in [0, 1].</summary>
public static class PixelConvert
{

    public static void BytesToUnit(ReadOnlySpan<byte> source, Span<float> destination)
    {
        if (source.Length != destination.Length) throw new ArgumentException($"BytesToUnit: {source.Length} bytes into {destination.Length} floats.");
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            // A true division, not a multiply by 1/255, so values equal torchvision's ToTensor bit for bit.
            var divisor = Vector256.Create(255f);
            for (; i + 16 <= source.Length; i += 16)
            {
                var bytes = Vector128.Create(source.Slice(i, 16));
                var (lo, hi) = Vector128.Widen(bytes);
                var (a, b) = Vector128.Widen(lo);
                var (c, d) = Vector128.Widen(hi);
                (Vector256.ConvertToSingle(Vector256.Create(a, b).AsInt32()) / divisor).CopyTo(destination.Slice(i, 8));
                (Vector256.ConvertToSingle(Vector256.Create(c, d).AsInt32()) / divisor).CopyTo(destination.Slice(i + 8, 8));
            }
        }
        for (; i < source.Length; i++) destination[i] = source[i] / 255f;
    }

    /// <summary>Rounds to the nearest 8-bit level, clamping to [0, 1] first.</summary>
    public static byte UnitToByte(float value)
    {
        if (!(value > 0f)) return 0;
        if (value >= 1f) return 255;
        return (byte)(value * 255f + 0.5f);
    }

    public static void UnitToBytes(ReadOnlySpan<float> source, Span<byte> destination)
    {
        if (source.Length != destination.Length) throw new ArgumentException($"UnitToBytes: {source.Length} floats into {destination.Length} bytes.");
        for (int i = 0; i < source.Length; i++) destination[i] = UnitToByte(source[i]);
    }
}
