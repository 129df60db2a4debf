using System.Text.Json;

namespace CrossDistill.Bench;

/// <summary>Reads a case list embedded from bench/cases (the same file the PyTorch peer reads).</summary>
internal static class CaseFile
{
    private static readonly JsonSerializerOptions Options = new() { PropertyNameCaseInsensitive = true };

    public static T Load<T>(string fileName)
    {
        using var stream = typeof(CaseFile).Assembly.GetManifestResourceStream($"cases/{fileName}")
            ?? throw new InvalidOperationException($"bench: the case file cases/{fileName} is not embedded in {typeof(CaseFile).Assembly.GetName().Name}.");
        return JsonSerializer.Deserialize<T>(stream, Options)
            ?? throw new InvalidOperationException($"bench: cases/{fileName} is empty.");
    }
}
