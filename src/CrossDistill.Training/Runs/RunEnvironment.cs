using System.Diagnostics;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Text.Json;
using CrossDistill.Engine.Kernels;

namespace CrossDistill.Training.Runs;

/// <summary>What a run ran on (env.json): version, commit, machine, cores, SIMD, seed.</summary>
public static class RunEnvironment
{
    public const string File = "env.json";

    public static string Version => typeof(RunEnvironment).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
        ?? typeof(RunEnvironment).Assembly.GetName().Version?.ToString() ?? "unknown";

    public static Dictionary<string, object?> Snapshot(ulong seed) => new()
    {
        ["version"] = Version,
        ["git_commit"] = GitCommit(),
        ["started_utc"] = DateTime.UtcNow.ToString("O"),
        ["machine"] = Environment.MachineName,
        ["os"] = RuntimeInformation.OSDescription,
        ["architecture"] = RuntimeInformation.ProcessArchitecture.ToString(),
        ["runtime"] = RuntimeInformation.FrameworkDescription,
        ["cores"] = Environment.ProcessorCount,
        ["kernel_threads"] = Workers.Threads,
        ["vector512"] = Vector512.IsHardwareAccelerated,
        ["vector256"] = Vector256.IsHardwareAccelerated,
        ["seed"] = seed,
    };

    public static void Write(string runDir, ulong seed) =>
        System.IO.File.WriteAllText(Path.Combine(runDir, File), JsonSerializer.Serialize(Snapshot(seed), new JsonSerializerOptions { WriteIndented = true }) + "\n");

    /// <summary>The commit of the git work tree around the current directory, else the one the binary was built from, else null.</summary>
    public static string? GitCommit() => GitHead(Environment.CurrentDirectory) ?? BuildCommit();

    /// <summary>The commit SourceLink stamped into the informational version ("1.0.0+&lt;sha&gt;").</summary>
    private static string? BuildCommit()
    {
        int plus = Version.IndexOf('+');
        return plus >= 0 && Version.Length - plus > 7 ? Version[(plus + 1)..] : null;
    }

    private static string? GitHead(string directory)
    {
        try
        {
            var start = new ProcessStartInfo("git", "rev-parse HEAD")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
                WorkingDirectory = directory,
            };
            using var process = Process.Start(start);
            if (process is null) return null;
            var output = process.StandardOutput.ReadToEnd().Trim();
            process.StandardError.ReadToEnd();
            if (!process.WaitForExit(5000)) return null;
            return process.ExitCode == 0 && output.Length >= 7 ? output : null;
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException or IOException)
        {
            return null;
        }
    }
}
