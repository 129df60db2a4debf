using System.Diagnostics;

namespace CrossDistill.TestSupport;

/// <summary>
/// Runs scripts with Debian's interpreter (/usr/bin/python3, the one python3-torch installs into),
/// with tools/fixtures on the path so scripts can import fixturelib.
/// </summary>
public static class Python
{
    public const string Interpreter = "/usr/bin/python3";

    private static readonly Lazy<bool> TorchAvailable = new(() =>
    {
        try
        {
            Run("import torch");
            return true;
        }
        catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception or TimeoutException)
        {
            return false;
        }
    });

    /// <summary>Whether <c>/usr/bin/python3 -c "import torch"</c> succeeds (checked once).</summary>
    public static bool HasTorch => TorchAvailable.Value;

    /// <summary>
    /// Runs <paramref name="script"/> (as <c>python3 -c</c>, so sys.argv[1:] are <paramref name="args"/>)
    /// and returns its standard output; throws with its standard error if it fails.
    /// </summary>
    public static string Run(string script, params string[] args)
    {
        var start = new ProcessStartInfo(Interpreter)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(script);
        foreach (var a in args) start.ArgumentList.Add(a);
        var tools = Path.Combine(Repo.Root, "tools", "fixtures");
        var existing = Environment.GetEnvironmentVariable("PYTHONPATH");
        start.Environment["PYTHONPATH"] = string.IsNullOrEmpty(existing) ? tools : tools + Path.PathSeparator + existing;

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {Interpreter}.");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        // Generous: a full-size reference (ViT-B, Mixer-B) takes ~20 s on a quiet machine, minutes on a busy one.
        if (!process.WaitForExit(TimeSpan.FromMinutes(15)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{Interpreter} did not finish within 15 minutes.");
        }
        process.WaitForExit();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{Interpreter} exited with code {process.ExitCode}:\n{stderr.Result}");
        return stdout.Result;
    }
}
