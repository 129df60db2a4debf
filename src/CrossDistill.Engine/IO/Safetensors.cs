using System.Buffers.Binary;
using System.Text;
using System.Text.Json;

namespace CrossDistill.Engine.IO;

/// <summary>
/// Reads and writes the safetensors format: an 8-byte little-endian header length, a JSON header
/// of name → {dtype, shape, data_offsets}, then the raw little-endian data, packed with no gaps.
/// Files are byte-compatible with the Python library (header padded with spaces to 8 bytes,
/// tensors ordered by dtype alignment, then name). F16 and BF16 load as float32; int tensors
/// load as int64.
/// </summary>
public static unsafe class Safetensors
{
    private const long MaxHeaderBytes = 100_000_000;

    /// <summary>Writes <paramref name="tensors"/> to <paramref name="path"/> atomically (temporary file, then rename).</summary>
    public static void Save(string path, IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string>? metadata = null, bool asHalf = false, bool asBFloat16 = false)
    {
        var tmp = path + ".tmp-" + Environment.ProcessId;
        try
        {
            using (var stream = new FileStream(tmp, FileMode.Create, FileAccess.Write, FileShare.None))
                Write(stream, tensors, metadata, asHalf ? "F16" : asBFloat16 ? "BF16" : "F32");
            File.Move(tmp, path, overwrite: true);
        }
        catch
        {
            if (File.Exists(tmp)) File.Delete(tmp);
            throw;
        }
    }

    public static void Write(Stream stream, IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string>? metadata = null, string floatDType = "F32")
    {
        // The Python writer sorts by dtype alignment (largest first), then by name.
        var entries = tensors.Select(kv => (Name: kv.Key, Tensor: kv.Value, DType: kv.Value.DType == DType.Int64 ? "I64" : floatDType))
            .OrderByDescending(e => ElementSize(e.DType)).ThenBy(e => e.Name, StringComparer.Ordinal).ToList();
        using var headerBuffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(headerBuffer))
        {
            json.WriteStartObject();
            if (metadata is not null && metadata.Count > 0)
            {
                json.WriteStartObject("__metadata__");
                foreach (var (k, v) in metadata) json.WriteString(k, v);
                json.WriteEndObject();
            }
            long offset = 0;
            foreach (var e in entries)
            {
                long bytes = (long)e.Tensor.Numel * ElementSize(e.DType);
                json.WriteStartObject(e.Name);
                json.WriteString("dtype", e.DType);
                json.WriteStartArray("shape");
                foreach (int d in e.Tensor.Shape) json.WriteNumberValue(d);
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                json.WriteNumberValue(offset + bytes);
                json.WriteEndArray();
                json.WriteEndObject();
                offset += bytes;
            }
            json.WriteEndObject();
        }
        var header = headerBuffer.ToArray().ToList();
        while (header.Count % 8 != 0) header.Add((byte)' ');
        Span<byte> len = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(len, (ulong)header.Count);
        stream.Write(len);
        stream.Write(header.ToArray());
        foreach (var e in entries) WriteData(stream, e.Tensor, e.DType);
    }

    private static void WriteData(Stream stream, Tensor t, string dtype)
    {
        using var c = t.Detach();
        using var contiguous = c.Contiguous();
        if (dtype == "I64") { stream.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(contiguous.LongSpan)); return; }
        var values = contiguous.Span;
        if (dtype == "F32") { stream.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(values)); return; }
        var buffer = new byte[values.Length * 2];
        for (int i = 0; i < values.Length; i++)
        {
            ushort bits = dtype == "F16" ? BitConverter.HalfToUInt16Bits((Half)values[i]) : ToBFloat16(values[i]);
            BinaryPrimitives.WriteUInt16LittleEndian(buffer.AsSpan(2 * i), bits);
        }
        stream.Write(buffer);
    }

    /// <summary>Round-to-nearest-even, as torch's float → bfloat16 conversion.</summary>
    private static ushort ToBFloat16(float v)
    {
        uint bits = BitConverter.SingleToUInt32Bits(v);
        if (float.IsNaN(v)) return (ushort)((bits >> 16) | 0x40);
        uint rounding = 0x7FFF + ((bits >> 16) & 1);
        return (ushort)((bits + rounding) >> 16);
    }

    private static int ElementSize(string dtype) => dtype switch
    {
        "F64" or "I64" or "U64" => 8,
        "F32" or "I32" or "U32" => 4,
        "F16" or "BF16" or "I16" or "U16" => 2,
        "I8" or "U8" or "BOOL" => 1,
        _ => throw new SafetensorsException($"unsupported dtype '{dtype}'"),
    };

    /// <summary>Loads every tensor of a safetensors file (outside any disposal scope: the caller owns them).</summary>
    public static Dictionary<string, Tensor> Load(string path) => Load(path, out _);

    public static Dictionary<string, Tensor> Load(string path, out Dictionary<string, string> metadata)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Safetensors file '{path}' does not exist.", path);
        byte[] bytes = File.ReadAllBytes(path);
        try { return Parse(bytes, out metadata); }
        catch (SafetensorsException e) { throw new SafetensorsException($"'{path}' is not a valid safetensors file: {e.Message}"); }
    }

    public static Dictionary<string, Tensor> Parse(byte[] bytes, out Dictionary<string, string> metadata)
    {
        if (bytes.Length < 8) throw new SafetensorsException($"the file has {bytes.Length} bytes, fewer than the 8-byte header length");
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        if (headerLength > MaxHeaderBytes) throw new SafetensorsException($"header length {headerLength} exceeds the 100 MB limit");
        if (8 + (long)headerLength > bytes.Length) throw new SafetensorsException($"header length {headerLength} runs past the end of the file ({bytes.Length} bytes): truncated");
        var dataStart = 8 + (int)headerLength;
        JsonDocument doc;
        try { doc = JsonDocument.Parse(bytes.AsMemory(8, (int)headerLength)); }
        catch (JsonException e) { throw new SafetensorsException($"the header is not valid JSON ({e.Message})"); }
        metadata = new Dictionary<string, string>();
        var specs = new List<(string Name, string DType, int[] Shape, long Begin, long End)>();
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object) throw new SafetensorsException("the header is not a JSON object");
            foreach (var prop in doc.RootElement.EnumerateObject())
            {
                if (prop.Name == "__metadata__")
                {
                    foreach (var m in prop.Value.EnumerateObject()) metadata[m.Name] = m.Value.GetString() ?? "";
                    continue;
                }
                try
                {
                    var dtype = prop.Value.GetProperty("dtype").GetString()!;
                    var shape = prop.Value.GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()).ToArray();
                    var offsets = prop.Value.GetProperty("data_offsets").EnumerateArray().Select(e => e.GetInt64()).ToArray();
                    if (offsets.Length != 2) throw new SafetensorsException($"tensor '{prop.Name}' has {offsets.Length} data_offsets, expected 2");
                    specs.Add((prop.Name, dtype, shape, offsets[0], offsets[1]));
                }
                catch (Exception e) when (e is KeyNotFoundException or InvalidOperationException or FormatException)
                {
                    throw new SafetensorsException($"tensor '{prop.Name}' has a malformed entry (needs dtype, shape, data_offsets)");
                }
            }
        }
        long expected = 0;
        foreach (var s in specs.OrderBy(s => s.Begin).ThenBy(s => s.End)) // zero-length tensors first at a shared offset
        {
            if (s.Begin != expected) throw new SafetensorsException($"tensor '{s.Name}' starts at {s.Begin}, expected {expected} (gaps or overlaps)");
            long size = (long)ShapeUtil.Numel(s.Shape) * ElementSize(s.DType);
            if (s.End - s.Begin != size) throw new SafetensorsException($"tensor '{s.Name}' of shape {ShapeUtil.Format(s.Shape)} and dtype {s.DType} needs {size} bytes, its offsets span {s.End - s.Begin}");
            expected = s.End;
        }
        if (dataStart + expected != bytes.Length)
            throw new SafetensorsException(dataStart + expected > bytes.Length
                ? $"the data needs {dataStart + expected} bytes but the file has {bytes.Length}: truncated"
                : $"the file has {bytes.Length - dataStart - expected} trailing bytes after the data");

        var result = new Dictionary<string, Tensor>();
        foreach (var s in specs)
        {
            var src = bytes.AsSpan(dataStart + (int)s.Begin, (int)(s.End - s.Begin));
            result[s.Name] = Decode(s.DType, s.Shape, src).DetachFromScopes();
        }
        return result;
    }

    private static Tensor Decode(string dtype, int[] shape, ReadOnlySpan<byte> src)
    {
        int n = ShapeUtil.Numel(shape);
        switch (dtype)
        {
            case "F32":
            {
                var t = Tensor.Empty(shape);
                src.CopyTo(System.Runtime.InteropServices.MemoryMarshal.AsBytes(t.Span));
                return t;
            }
            case "F16" or "BF16" or "F64":
            {
                var t = Tensor.Empty(shape);
                var dst = t.Span;
                for (int i = 0; i < n; i++)
                    dst[i] = dtype switch
                    {
                        "F16" => (float)BitConverter.UInt16BitsToHalf(BinaryPrimitives.ReadUInt16LittleEndian(src[(2 * i)..])),
                        "BF16" => BitConverter.UInt32BitsToSingle((uint)BinaryPrimitives.ReadUInt16LittleEndian(src[(2 * i)..]) << 16),
                        _ => (float)BinaryPrimitives.ReadDoubleLittleEndian(src[(8 * i)..]),
                    };
                return t;
            }
            case "I64" or "I32" or "I16" or "I8" or "U8" or "BOOL":
            {
                var t = Tensor.Empty(shape, DType.Int64);
                var dst = t.LongSpan;
                for (int i = 0; i < n; i++)
                    dst[i] = dtype switch
                    {
                        "I64" => BinaryPrimitives.ReadInt64LittleEndian(src[(8 * i)..]),
                        "I32" => BinaryPrimitives.ReadInt32LittleEndian(src[(4 * i)..]),
                        "I16" => BinaryPrimitives.ReadInt16LittleEndian(src[(2 * i)..]),
                        "I8" => (sbyte)src[i],
                        _ => src[i],
                    };
                return t;
            }
            default:
                throw new SafetensorsException($"dtype '{dtype}' is not supported (F32, F16, BF16, F64, I64, I32, I16, I8, U8, BOOL are)");
        }
    }
}

public sealed class SafetensorsException : Exception
{
    public SafetensorsException(string message) : base(message) { }
}
