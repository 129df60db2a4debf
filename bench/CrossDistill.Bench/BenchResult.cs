using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace CrossDistill.Bench;

/// <summary>One measurement, printed as one JSON line; bench/compare.py joins ours and the peer's on suite and name.</summary>
public sealed record BenchResult(
    [property: JsonPropertyName("suite")] string Suite,
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("shape")] string Shape,
    [property: JsonPropertyName("metric")] string Metric,
    [property: JsonPropertyName("value")] double Value,
    [property: JsonPropertyName("unit")] string Unit)
{
    // Relaxed escaping keeps shapes such as "64x65x192+1x65x192" readable (the default writes + as \u002B); nothing here is embedded in HTML.
    private static readonly JsonSerializerOptions Options = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public string ToJson() => JsonSerializer.Serialize(this with { Value = Rounded(Value) }, Options);

    /// <summary>Two decimals, but three significant digits below 1 (a tiny op's GB/s would otherwise print as 0); pytorch_bench.py rounds the same way.</summary>
    public static double Rounded(double value)
    {
        if (value == 0 || Math.Abs(value) >= 1 || !double.IsFinite(value)) return Math.Round(value, 2);
        return Math.Round(value, Math.Clamp(2 - (int)Math.Floor(Math.Log10(Math.Abs(value))), 2, 15));
    }
}

/// <summary>Settings shared by every suite.</summary>
/// <param name="Threads">Kernel threads (the peer gets the same through torch.set_num_threads).</param>
/// <param name="Quick">Fewer and shorter samples: a smoke run, not a measurement.</param>
/// <param name="Cases">Case names to run; null or empty runs them all.</param>
/// <param name="MemorySites">Suites that report peak memory also print what was alive at the peak, by allocating op (<see cref="CrossDistill.Engine.AllocationSites"/>).</param>
public sealed record BenchOptions(int Threads = 2, bool Quick = false, IReadOnlyCollection<string>? Cases = null, bool MemorySites = false)
{
    public bool Includes(string caseName) => Cases is null || Cases.Count == 0 || Cases.Contains(caseName);
}
