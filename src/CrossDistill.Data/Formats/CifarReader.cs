namespace CrossDistill.Data.Formats;

/// <summary>Images and labels read from CIFAR binary files.</summary>
public sealed record CifarRecords(byte[] Pixels, int[] Labels, int[]? CoarseLabels)
{
    public int Count => Labels.Length;
}

/// <summary>
/// Reads the binary versions of CIFAR-10 and CIFAR-100: fixed-size records of label byte(s)
/// followed by 3072 pixel bytes (a 32×32 red plane, then green, then blue; rows top to bottom).
/// CIFAR-10 records have one label byte (0–9); CIFAR-100 records have a coarse (0–19) then a fine (0–99) label byte.
/// </summary>
public static class CifarReader
{
    public const int ImageBytes = 3 * 32 * 32;

    public static string Cifar10Format => "a CIFAR-10 binary batch (data_batch_N.bin / test_batch.bin): records of 1 label byte (0-9) + 3072 pixel bytes";

    public static string Cifar100Format => "a CIFAR-100 binary file (train.bin / test.bin): records of 1 coarse label byte (0-19) + 1 fine label byte (0-99) + 3072 pixel bytes";

    /// <summary>Reads one or more CIFAR-10 batch files, in order.</summary>
    public static CifarRecords ReadCifar10(params string[] paths) => Read(paths, labelBytes: 1, Cifar10Format);

    /// <summary>Reads a CIFAR-100 file: fine labels in <see cref="CifarRecords.Labels"/>, coarse in <see cref="CifarRecords.CoarseLabels"/>.</summary>
    public static CifarRecords ReadCifar100(string path) => Read(new[] { path }, labelBytes: 2, Cifar100Format);

    private static CifarRecords Read(string[] paths, int labelBytes, string format)
    {
        int recordSize = labelBytes + ImageBytes;
        var files = new List<byte[]>();
        long records = 0;
        foreach (var path in paths)
        {
            if (!File.Exists(path)) throw new DataFormatException(path, "file not found", format);
            var bytes = File.ReadAllBytes(path);
            if (bytes.Length == 0) throw new DataFormatException(path, "the file is empty", format);
            if (bytes.Length % recordSize != 0)
            {
                string hint = bytes.Length % (recordSize == 3073 ? 3074 : 3073) == 0
                    ? (recordSize == 3073 ? " (it divides into 3074-byte CIFAR-100 records)" : " (it divides into 3073-byte CIFAR-10 records)")
                    : "";
                throw new DataFormatException(path, $"wrong record size or truncated: {bytes.Length} bytes is not a whole number of {recordSize}-byte records{hint}", format);
            }
            files.Add(bytes);
            records += bytes.Length / recordSize;
        }
        if (records * ImageBytes > Array.MaxLength) throw new ArgumentException($"CIFAR: {records} records do not fit in one array.");
        var pixels = new byte[records * ImageBytes];
        var labels = new int[records];
        int[]? coarse = labelBytes == 2 ? new int[records] : null;
        int n = 0;
        for (int f = 0; f < files.Count; f++)
        {
            var bytes = files[f];
            for (int r = 0; r < bytes.Length / recordSize; r++, n++)
            {
                int at = r * recordSize;
                if (labelBytes == 1)
                {
                    labels[n] = bytes[at];
                    if (labels[n] > 9)
                        throw new DataFormatException(paths[f], $"record {r} has label {labels[n]}, outside 0-9 (is this a CIFAR-100 file?)", format);
                }
                else
                {
                    coarse![n] = bytes[at];
                    labels[n] = bytes[at + 1];
                    if (coarse[n] > 19 || labels[n] > 99)
                        throw new DataFormatException(paths[f], $"record {r} has coarse label {coarse[n]} and fine label {labels[n]}, outside 0-19 / 0-99", format);
                }
                bytes.AsSpan(at + labelBytes, ImageBytes).CopyTo(pixels.AsSpan(n * ImageBytes));
            }
        }
        return new CifarRecords(pixels, labels, coarse);
    }
}
