using System.CommandLine;
using System.Runtime.Intrinsics;
using CrossDistill.Engine.Kernels;

namespace CrossDistill.Cli.Commands;

/// <summary>`crossdistill info`: what the engine will run with on this machine.</summary>
public static class InfoCommand
{
    public static Command Create()
    {
        var command = new Command("info", "Show the engine's SIMD paths, threads and runtime.");
        command.SetAction(_ =>
        {
            Console.WriteLine($"runtime: .NET {Environment.Version} on {System.Runtime.InteropServices.RuntimeInformation.OSDescription}");
            Console.WriteLine($"cores: {Environment.ProcessorCount}, kernel threads: {Workers.Threads}");
            Console.WriteLine($"Vector512: {Vector512.IsHardwareAccelerated}, Vector256: {Vector256.IsHardwareAccelerated}");
            Console.WriteLine($"sgemm micro-kernel: {Gemm.KernelDescription}");
            return 0;
        });
        return command;
    }
}
