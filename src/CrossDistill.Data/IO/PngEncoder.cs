using System.Buffers.Binary;
using System.IO.Compression;

namespace CrossDistill.Data.IO;

/// <summary>
/// Writes 8-bit greyscale or RGB PNG files: one IHDR, one zlib-compressed IDAT with a filter
/// chosen per row (the heuristic libpng uses: the smallest sum of absolute filtered bytes), IEND.
/// </summary>
public static class PngEncoder
{
    private static ReadOnlySpan<byte> Signature => new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A };

    /// <param name="pixels">Rows top to bottom, each <paramref name="width"/>×<paramref name="channels"/> bytes, channels interleaved (R, G, B per pixel).</param>
    /// <param name="channels">1 for greyscale, 3 for RGB.</param>
    public static byte[] Encode(ReadOnlySpan<byte> pixels, int width, int height, int channels)
    {
        if (width <= 0 || height <= 0) throw new ArgumentException($"PngEncoder: width and height must be positive, got {width}×{height}.");
        if (channels is not (1 or 3)) throw new ArgumentException($"PngEncoder: channels must be 1 (grey) or 3 (RGB), got {channels}.", nameof(channels));
        int stride = checked(width * channels);
        if (pixels.Length != (long)stride * height)
            throw new ArgumentException($"PngEncoder: {pixels.Length} bytes for {width}×{height}×{channels} (expected {(long)stride * height}).", nameof(pixels));

        using var output = new MemoryStream();
        output.Write(Signature);
        Span<byte> header = stackalloc byte[13];
        BinaryPrimitives.WriteInt32BigEndian(header, width);
        BinaryPrimitives.WriteInt32BigEndian(header[4..], height);
        header[8] = 8;                                // bit depth
        header[9] = (byte)(channels == 1 ? 0 : 2);    // colour type: greyscale or truecolour
        header[10] = 0;                               // compression: deflate
        header[11] = 0;                               // filter method: adaptive
        header[12] = 0;                               // no interlace
        WriteChunk(output, "IHDR", header);
        WriteChunk(output, "IDAT", Compress(FilterRows(pixels, stride, height, channels)));
        WriteChunk(output, "IEND", ReadOnlySpan<byte>.Empty);
        return output.ToArray();
    }

    public static void Write(string path, ReadOnlySpan<byte> pixels, int width, int height, int channels)
    {
        var bytes = Encode(pixels, width, height, channels);
        var directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(directory)) Directory.CreateDirectory(directory);
        File.WriteAllBytes(path, bytes);
    }

    private static byte[] FilterRows(ReadOnlySpan<byte> pixels, int stride, int height, int bytesPerPixel)
    {
        var filtered = new byte[(long)(stride + 1) * height];
        var candidate = new byte[stride];
        var best = new byte[stride];
        var zeros = new byte[stride];
        for (int y = 0; y < height; y++)
        {
            var row = pixels.Slice(y * stride, stride);
            var above = y > 0 ? pixels.Slice((y - 1) * stride, stride) : zeros;
            long bestScore = long.MaxValue;
            byte bestFilter = 0;
            for (byte filter = 0; filter <= 4; filter++)
            {
                long score = ApplyFilter(filter, row, above, bytesPerPixel, candidate);
                if (score < bestScore)
                {
                    bestScore = score;
                    bestFilter = filter;
                    candidate.CopyTo(best, 0);
                }
            }
            int at = y * (stride + 1);
            filtered[at] = bestFilter;
            best.CopyTo(filtered, at + 1);
        }
        return filtered;
    }

    // Writes the filtered row and returns the sum of the bytes read as signed values.
    private static long ApplyFilter(byte filter, ReadOnlySpan<byte> row, ReadOnlySpan<byte> above, int bpp, Span<byte> result)
    {
        long score = 0;
        for (int i = 0; i < row.Length; i++)
        {
            int left = i >= bpp ? row[i - bpp] : 0;
            int up = above[i];
            int upLeft = i >= bpp ? above[i - bpp] : 0;
            int predicted = filter switch
            {
                0 => 0,
                1 => left,
                2 => up,
                3 => (left + up) >> 1,
                _ => Paeth(left, up, upLeft),
            };
            byte value = (byte)(row[i] - predicted);
            result[i] = value;
            score += Math.Abs((int)(sbyte)value);
        }
        return score;
    }

    internal static int Paeth(int a, int b, int c)
    {
        int p = a + b - c;
        int pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
        if (pa <= pb && pa <= pc) return a;
        return pb <= pc ? b : c;
    }

    private static byte[] Compress(byte[] data)
    {
        using var buffer = new MemoryStream();
        using (var zlib = new ZLibStream(buffer, CompressionLevel.SmallestSize, leaveOpen: true)) zlib.Write(data);
        return buffer.ToArray();
    }

    private static void WriteChunk(Stream output, string type, ReadOnlySpan<byte> data)
    {
        Span<byte> word = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(word, data.Length);
        output.Write(word);
        Span<byte> typeBytes = stackalloc byte[4];
        for (int i = 0; i < 4; i++) typeBytes[i] = (byte)type[i];
        output.Write(typeBytes);
        output.Write(data);
        uint crc = Crc32.Append(Crc32.Compute(typeBytes), data);
        BinaryPrimitives.WriteUInt32BigEndian(word, crc);
        output.Write(word);
    }
}
