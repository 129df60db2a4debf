using System.Globalization;
using System.Text;
using System.Text.Json;

namespace CrossDistill.Training.Runs;

/// <summary>One line of metrics.jsonl: a step's or an epoch's named values.</summary>
public sealed record MetricsRecord(string Kind, int Epoch, long Step, IReadOnlyList<KeyValuePair<string, double>> Values)
{
    public double this[string name] => Values.First(kv => kv.Key == name).Value;

    public bool Has(string name) => Values.Any(kv => kv.Key == name);
}

/// <summary>
/// Writes a run's metrics: metrics.jsonl (one JSON object per line, appended as they come) and
/// metrics.csv (rewritten from the records after each epoch, with the union of the columns).
/// Non-finite values are written as null (JSON) or empty (CSV).
/// </summary>
public sealed class MetricsLog
{
    public const string JsonFile = "metrics.jsonl";
    public const string CsvFile = "metrics.csv";

    private readonly string _jsonPath, _csvPath;
    private readonly List<MetricsRecord> _records = new();

    public MetricsLog(string runDir)
    {
        _jsonPath = Path.Combine(runDir, JsonFile);
        _csvPath = Path.Combine(runDir, CsvFile);
    }

    public IReadOnlyList<MetricsRecord> Records => _records;

    /// <summary>Reads the existing records of a resumed run, keeping only those up to <paramref name="step"/> (later ones are repeated by the resumed run).</summary>
    public void ResumeAt(long step)
    {
        _records.Clear();
        if (File.Exists(_jsonPath))
            foreach (var line in File.ReadAllLines(_jsonPath))
                if (line.Length > 0 && Parse(line) is { } record && record.Step <= step) _records.Add(record);
        File.WriteAllText(_jsonPath, string.Concat(_records.Select(r => ToJson(r) + "\n")));
        WriteCsv();
    }

    public void Add(MetricsRecord record)
    {
        _records.Add(record);
        File.AppendAllText(_jsonPath, ToJson(record) + "\n");
    }

    public void WriteCsv()
    {
        var columns = new List<string>();
        foreach (var r in _records)
            foreach (var (name, _) in r.Values)
                if (!columns.Contains(name)) columns.Add(name);
        var sb = new StringBuilder();
        sb.Append("kind,epoch,step");
        foreach (var c in columns) sb.Append(',').Append(c);
        sb.Append('\n');
        foreach (var r in _records)
        {
            sb.Append(r.Kind).Append(',').Append(r.Epoch.ToString(CultureInfo.InvariantCulture)).Append(',').Append(r.Step.ToString(CultureInfo.InvariantCulture));
            foreach (var c in columns)
            {
                sb.Append(',');
                var hit = r.Values.FirstOrDefault(kv => kv.Key == c);
                if (hit.Key is not null && double.IsFinite(hit.Value)) sb.Append(hit.Value.ToString("R", CultureInfo.InvariantCulture));
            }
            sb.Append('\n');
        }
        var tmp = _csvPath + ".tmp";
        File.WriteAllText(tmp, sb.ToString());
        File.Move(tmp, _csvPath, overwrite: true);
    }

    public static string ToJson(MetricsRecord r)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("kind", r.Kind);
            json.WriteNumber("epoch", r.Epoch);
            json.WriteNumber("step", r.Step);
            foreach (var (name, value) in r.Values)
            {
                if (double.IsFinite(value)) json.WriteNumber(name, value);
                else json.WriteNull(name);
            }
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    public static MetricsRecord? Parse(string line)
    {
        try
        {
            using var doc = JsonDocument.Parse(line);
            var root = doc.RootElement;
            var values = new List<KeyValuePair<string, double>>();
            foreach (var p in root.EnumerateObject())
            {
                if (p.Name is "kind" or "epoch" or "step") continue;
                values.Add(new(p.Name, p.Value.ValueKind == JsonValueKind.Number ? p.Value.GetDouble() : double.NaN));
            }
            return new MetricsRecord(root.GetProperty("kind").GetString() ?? "", root.GetProperty("epoch").GetInt32(), root.GetProperty("step").GetInt64(), values);
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            return null;
        }
    }
}
