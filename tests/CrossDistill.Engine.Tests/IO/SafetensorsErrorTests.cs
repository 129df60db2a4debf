using System.Buffers.Binary;
using System.Text;
using CrossDistill.Engine.IO;

namespace CrossDistill.Engine.Tests.IO;

/// <summary>Broken safetensors files fail with a message that names the file and the problem.</summary>
public class SafetensorsErrorTests
{
    private const string OneTensor = "{\"w\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]}}";

    /// <summary>Writes an 8-byte header length (the real one unless overridden), the header and the data.</summary>
    internal static void WriteRaw(string path, string header, byte[] data, ulong? headerLength = null)
    {
        var h = Encoding.UTF8.GetBytes(header);
        var bytes = new byte[8 + h.Length + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, headerLength ?? (ulong)h.Length);
        h.CopyTo(bytes, 8);
        data.CopyTo(bytes, 8 + h.Length);
        File.WriteAllBytes(path, bytes);
    }

    private static string TempPath(string what) => Path.Combine(Path.GetTempPath(), $"crossdistill-bad-{what}-{Environment.ProcessId}.safetensors");

    private static void AssertFails(string what, Action<string> write, params string[] problem)
    {
        var path = TempPath(what);
        write(path);
        try
        {
            var e = Assert.Throws<SafetensorsException>(() => Safetensors.Load(path));
            Assert.Contains(path, e.Message);
            foreach (var p in problem) Assert.Contains(p, e.Message);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void TruncatedData() =>
        AssertFails("truncated", p => WriteRaw(p, OneTensor, new byte[21]), "the data needs", "truncated");

    [Fact]
    public void ShorterThanTheHeaderLength() =>
        AssertFails("tiny", p => File.WriteAllBytes(p, new byte[5]), "5 bytes, fewer than the 8-byte header length");

    [Fact]
    public void HeaderLengthPastTheEnd() =>
        AssertFails("past-end", p => WriteRaw(p, OneTensor, new byte[24], headerLength: 4000), "header length 4000 runs past the end of the file");

    [Fact]
    public void HugeHeaderLength() =>
        AssertFails("huge", p => WriteRaw(p, OneTensor, new byte[24], headerLength: ulong.MaxValue), "exceeds the 100 MB limit");

    [Fact]
    public void BadHeaderJson() =>
        AssertFails("json", p => WriteRaw(p, "{\"w\": {\"dtype\": \"F32\", ", new byte[24]), "the header is not valid JSON");

    [Fact]
    public void HeaderThatIsNotAnObject() =>
        AssertFails("array", p => WriteRaw(p, "[1, 2]", Array.Empty<byte>()), "the header is not a JSON object");

    [Fact]
    public void MalformedEntry() =>
        AssertFails("entry", p => WriteRaw(p, "{\"w\":{\"dtype\":\"F32\",\"shape\":[2,3]}}", new byte[24]), "tensor 'w' has a malformed entry");

    [Fact]
    public void OffsetsWithAGap() =>
        AssertFails("gap", p => WriteRaw(p, "{\"w\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[4,28]}}", new byte[28]), "tensor 'w' starts at 4, expected 0");

    [Fact]
    public void OffsetsThatDoNotFitTheShape() =>
        AssertFails("span", p => WriteRaw(p, "{\"w\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,20]}}", new byte[20]), "tensor 'w' of shape [2, 3] and dtype F32 needs 24 bytes, its offsets span 20");

    [Fact]
    public void OverlappingTensors() =>
        AssertFails("overlap", p => WriteRaw(p, "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", new byte[12]), "tensor 'b' starts at 4, expected 8");

    [Fact]
    public void UnsupportedDType() =>
        AssertFails("dtype", p => WriteRaw(p, "{\"w\":{\"dtype\":\"C64\",\"shape\":[2],\"data_offsets\":[0,16]}}", new byte[16]), "unsupported dtype 'C64'");

    [Fact]
    public void TrailingBytes() =>
        AssertFails("trailing", p => WriteRaw(p, OneTensor, new byte[30]), "6 trailing bytes after the data");

    [Fact]
    public void MissingFile()
    {
        var path = TempPath("missing");
        var e = Assert.Throws<FileNotFoundException>(() => Safetensors.Load(path));
        Assert.Contains(path, e.Message);
    }
}
