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
    public string ToJson() => JsonSerializer.Serialize(this with { Value = Math.Round(Value, 2) });
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
