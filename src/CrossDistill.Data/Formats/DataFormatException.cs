namespace CrossDistill.Data.Formats;

/// <summary>A dataset file that is missing or not in the expected format. The message names the file and the format expected.</summary>
public sealed class DataFormatException : IOException
{
    public DataFormatException(string path, string problem, string expectedFormat, Exception? inner = null)
        : base($"{path}: {problem}; expected {expectedFormat}.", inner)
    {
        FilePath = path;
        ExpectedFormat = expectedFormat;
    }

    public string FilePath { get; }
    public string ExpectedFormat { get; }
}
