namespace CrossDistill.Training.Config;

/// <summary>A config that cannot be used: every problem, each naming its key path.</summary>
public sealed class ConfigException : Exception
{
    public ConfigException(IReadOnlyList<string> problems, string? file = null)
        : base((file is null ? "Invalid config" : $"Invalid config '{file}'") + ":" + Environment.NewLine + string.Join(Environment.NewLine, problems.Select(p => "  " + p)))
    {
        Problems = problems;
        File = file;
    }

    public IReadOnlyList<string> Problems { get; }
    public string? File { get; }

    public ConfigException WithFile(string file) => new(Problems, file);
}

/// <summary>Inclusive bounds a numeric config value must lie within.</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class ConfigRangeAttribute : Attribute
{
    public ConfigRangeAttribute(double min, double max) { Min = min; Max = max; }
    public double Min { get; }
    public double Max { get; }
}

/// <summary>The one-line description of a config key, shown by `crossdistill config defaults`.</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class ConfigDocAttribute : Attribute
{
    public ConfigDocAttribute(string text) => Text = text;
    public string Text { get; }
}

/// <summary>The value must be given (no default makes sense).</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class ConfigRequiredAttribute : Attribute { }
