namespace CrossDistill.TestSupport;

/// <summary>Paths inside the repository, found from the test binary's location.</summary>
public static class Repo
{
    public static string Root { get; } = FindRoot();

    public static string Fixtures(params string[] parts) => Path.Combine(new[] { Root, "tests", "fixtures" }.Concat(parts).ToArray());

    private static string FindRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "CrossDistill.slnx"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("Cannot find the repository root (CrossDistill.slnx) above " + AppContext.BaseDirectory);
    }
}
