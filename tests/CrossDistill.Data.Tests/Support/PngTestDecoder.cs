using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace CrossDistill.Data.Tests.Support;

/// <summary>
/// A strict decoder for the PNGs the encoder writes (8-bit grey or RGB, no interlace): checks the
/// signature, every chunk's CRC (computed bitwise here, not with the encoder's table), the IHDR
/// fields and the chunk order, inflates the IDAT data and undoes the five row filters.
/// </summary>
public static class PngTestDecoder
{
    public sealed record Decoded(int Width, int Height, int Channels, byte[] Pixels, List<string> ChunkTypes, List<byte> Filters);

    public static Decoded Decode(byte[] png)
    {
        byte[] signature = { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A };
        Assert.True(png.AsSpan(0, 8).SequenceEqual(signature), "PNG signature");
        int at = 8;
        var types = new List<string>();
        var idat = new MemoryStream();
        int width = 0, height = 0, channels = 0;
        while (at < png.Length)
        {
            int length = BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(at));
            string type = Encoding.ASCII.GetString(png, at + 4, 4);
            var data = png.AsSpan(at + 8, length);
            uint crc = BinaryPrimitives.ReadUInt32BigEndian(png.AsSpan(at + 8 + length));
            Assert.Equal(BitwiseCrc(png.AsSpan(at + 4, 4 + length)), crc);
            types.Add(type);
            if (type == "IHDR")
            {
                Assert.Equal(13, length);
                width = BinaryPrimitives.ReadInt32BigEndian(data);
                height = BinaryPrimitives.ReadInt32BigEndian(data[4..]);
                Assert.Equal(8, data[8]);
                Assert.True(data[9] is 0 or 2, $"colour type {data[9]}");
                channels = data[9] == 0 ? 1 : 3;
                Assert.Equal(0, data[10]);
                Assert.Equal(0, data[11]);
                Assert.Equal(0, data[12]);
            }
            else if (type == "IDAT")
            {
                idat.Write(data);
            }
            at += 12 + length;
        }
        Assert.Equal(png.Length, at);
        Assert.Equal("IHDR", types[0]);
        Assert.Equal("IEND", types[^1]);
        Assert.Contains("IDAT", types);

        idat.Position = 0;
        using var zlib = new ZLibStream(idat, CompressionMode.Decompress);
        using var raw = new MemoryStream();
        zlib.CopyTo(raw);
        var filtered = raw.ToArray();
        int stride = width * channels;
        Assert.Equal((stride + 1) * height, filtered.Length);
        var pixels = new byte[stride * height];
        var filters = new List<byte>();
        for (int y = 0; y < height; y++)
        {
            byte filter = filtered[y * (stride + 1)];
            filters.Add(filter);
            Assert.InRange(filter, (byte)0, (byte)4);
            for (int x = 0; x < stride; x++)
            {
                int a = x >= channels ? pixels[y * stride + x - channels] : 0;
                int b = y > 0 ? pixels[(y - 1) * stride + x] : 0;
                int c = x >= channels && y > 0 ? pixels[(y - 1) * stride + x - channels] : 0;
                int predictor = filter switch
                {
                    0 => 0,
                    1 => a,
                    2 => b,
                    3 => (a + b) / 2,
                    _ => Paeth(a, b, c),
                };
                pixels[y * stride + x] = (byte)(filtered[y * (stride + 1) + 1 + x] + predictor);
            }
        }
        return new Decoded(width, height, channels, pixels, types, filters);
    }

    private static int Paeth(int a, int b, int c)
    {
        int p = a + b - c, pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
        return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
    }

    private static uint BitwiseCrc(ReadOnlySpan<byte> data)
    {
        uint crc = 0xFFFFFFFF;
        foreach (byte d in data)
        {
            crc ^= d;
            for (int k = 0; k < 8; k++) crc = (crc >> 1) ^ (0xEDB88320u & (uint)-(int)(crc & 1));
        }
        return ~crc;
    }
}
