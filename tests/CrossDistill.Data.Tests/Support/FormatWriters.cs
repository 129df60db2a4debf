using System.Buffers.Binary;
using System.IO.Compression;

namespace CrossDistill.Data.Tests.Support;

/// <summary>
/// Writes dataset files in their published formats, independently of the readers under test:
/// IDX as in LeCun's MNIST page, CIFAR binaries as in Krizhevsky's.
/// </summary>
public static class FormatWriters
{
    /// <summary>An IDX file of unsigned bytes: 00 00 08 ndim, big-endian sizes, data.</summary>
    public static byte[] Idx(int[] dims, byte[] data)
    {
        var bytes = new byte[4 + 4 * dims.Length + data.Length];
        bytes[2] = 0x08;
        bytes[3] = (byte)dims.Length;
        for (int d = 0; d < dims.Length; d++) BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4 + 4 * d), dims[d]);
        data.CopyTo(bytes, 4 + 4 * dims.Length);
        return bytes;
    }

    public static byte[] Gzip(byte[] data)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true)) gzip.Write(data);
        return output.ToArray();
    }

    /// <summary>Writes {prefix}-images-idx3-ubyte and {prefix}-labels-idx1-ubyte (gzipped when asked) for images[n][rows*cols].</summary>
    public static void WriteMnistPair(string folder, string prefix, byte[][] images, byte[] labels, int rows, int cols, bool gzip)
    {
        var pixels = images.SelectMany(i => i).ToArray();
        var imageFile = Idx(new[] { images.Length, rows, cols }, pixels);
        var labelFile = Idx(new[] { labels.Length }, labels);
        string ext = gzip ? ".gz" : "";
        File.WriteAllBytes(Path.Combine(folder, $"{prefix}-images-idx3-ubyte{ext}"), gzip ? Gzip(imageFile) : imageFile);
        File.WriteAllBytes(Path.Combine(folder, $"{prefix}-labels-idx1-ubyte{ext}"), gzip ? Gzip(labelFile) : labelFile);
    }

    /// <summary>CIFAR-10 records: label byte, then R plane, G plane, B plane (32×32 each).</summary>
    public static byte[] Cifar10(byte[] labels, byte[][] images)
    {
        var output = new List<byte>();
        for (int i = 0; i < labels.Length; i++)
        {
            output.Add(labels[i]);
            output.AddRange(images[i]);
        }
        return output.ToArray();
    }

    /// <summary>CIFAR-100 records: coarse label byte, fine label byte, then the three planes.</summary>
    public static byte[] Cifar100(byte[] coarse, byte[] fine, byte[][] images)
    {
        var output = new List<byte>();
        for (int i = 0; i < fine.Length; i++)
        {
            output.Add(coarse[i]);
            output.Add(fine[i]);
            output.AddRange(images[i]);
        }
        return output.ToArray();
    }

    public static byte[][] RandomImages(Random random, int count, int length)
    {
        var images = new byte[count][];
        for (int i = 0; i < count; i++)
        {
            images[i] = new byte[length];
            random.NextBytes(images[i]);
        }
        return images;
    }
}
