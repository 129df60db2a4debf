using System.Buffers.Binary;
using System.IO.Compression;

namespace CrossDistill.Data.Formats;

/// <summary>An array read from an IDX file: its dimensions and its unsigned bytes in row-major order.</summary>
public sealed record IdxArray(int[] Dimensions, byte[] Data);

/// <summary>
/// Reads the IDX files of MNIST and Fashion-MNIST (gzipped or not, detected from the content):
/// a big-endian header of two zero bytes, a type byte (0x08 = unsigned byte), the number of
/// dimensions and one 32-bit size per dimension, then the values.
/// </summary>
public static class IdxReader
{
    public const int ImagesMagic = 0x00000803;
    public const int LabelsMagic = 0x00000801;

    public static string FormatName(int dimensions) => dimensions switch
    {
        3 => "an IDX image file of unsigned bytes (magic 0x00000803, then count, rows, columns), gzipped or not",
        1 => "an IDX label file of unsigned bytes (magic 0x00000801, then count), gzipped or not",
        _ => $"an IDX file of unsigned bytes with {dimensions} dimensions, gzipped or not",
    };

    /// <summary>Reads an IDX file of unsigned bytes with <paramref name="dimensions"/> dimensions.</summary>
    public static IdxArray Read(string path, int dimensions)
    {
        string format = FormatName(dimensions);
        byte[] bytes = ReadAllBytes(path, format);
        if (bytes.Length < 4) throw new DataFormatException(path, $"truncated: only {bytes.Length} bytes, too short for the 4-byte magic number", format);
        int magic = BinaryPrimitives.ReadInt32BigEndian(bytes);
        int expectedMagic = 0x0800 | dimensions;
        if (magic != expectedMagic)
            throw new DataFormatException(path, $"wrong magic number 0x{magic:X8} (expected 0x{expectedMagic:X8}){DescribeMagic(magic, dimensions)}", format);
        int headerLength = 4 + 4 * dimensions;
        if (bytes.Length < headerLength)
            throw new DataFormatException(path, $"truncated: {bytes.Length} bytes, the header alone needs {headerLength}", format);
        var dims = new int[dimensions];
        long expectedData = 1;
        for (int d = 0; d < dimensions; d++)
        {
            dims[d] = BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(4 + 4 * d));
            if (dims[d] < 0) throw new DataFormatException(path, $"dimension {d} has negative size {dims[d]}", format);
            expectedData *= dims[d];
        }
        long actualData = bytes.Length - headerLength;
        string shape = string.Join("×", dims);
        if (actualData < expectedData)
            throw new DataFormatException(path, $"truncated: the header promises {shape} = {expectedData} bytes of data but the file holds {actualData}", format);
        if (actualData > expectedData)
            throw new DataFormatException(path, $"wrong record size: the header promises {shape} = {expectedData} bytes of data but the file holds {actualData}", format);
        return new IdxArray(dims, bytes.AsSpan(headerLength).ToArray());
    }

    private static string DescribeMagic(int magic, int dimensions)
    {
        if ((magic & 0xFFFF0000) == 0 && (magic & 0xFF00) == 0x0800) return $": an unsigned-byte IDX file with {magic & 0xFF} dimensions instead of {dimensions}";
        if ((magic & 0xFFFF0000) == 0 && (magic & 0xFF00) is 0x0900 or 0x0B00 or 0x0C00 or 0x0D00 or 0x0E00)
            return $": an IDX file of type 0x{(magic >> 8) & 0xFF:X2} instead of unsigned bytes (0x08)";
        return ": not an IDX file";
    }

    /// <summary>The file's bytes, inflated when it starts with the gzip magic (1F 8B).</summary>
    internal static byte[] ReadAllBytes(string path, string format)
    {
        if (!File.Exists(path)) throw new DataFormatException(path, "file not found", format);
        byte[] raw = File.ReadAllBytes(path);
        if (raw.Length < 2 || raw[0] != 0x1F || raw[1] != 0x8B) return raw;
        try
        {
            using var gzip = new GZipStream(new MemoryStream(raw), CompressionMode.Decompress);
            using var inflated = new MemoryStream(raw.Length * 2);
            gzip.CopyTo(inflated);
            return inflated.ToArray();
        }
        catch (InvalidDataException e)
        {
            throw new DataFormatException(path, $"corrupt gzip data ({e.Message})", format, e);
        }
    }
}
