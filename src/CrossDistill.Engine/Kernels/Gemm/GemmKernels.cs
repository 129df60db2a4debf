using System.Runtime.Intrinsics.X86;

namespace CrossDistill.Engine.Kernels;

/// <summary>A micro-kernel choice bound to its instantiation of the packed driver.</summary>
internal sealed unsafe class GemmKernel
{
    private readonly delegate*<in GemmProblem, int, int, int, int, void> _run;

    public GemmKernel(string name, int mr, int nr, delegate*<in GemmProblem, int, int, int, int, void> run)
    {
        Name = name;
        MR = mr;
        NR = nr;
        _run = run;
    }

    public string Name { get; }
    public int MR { get; }
    public int NR { get; }

    public void Run(in GemmProblem p, int rowStart, int rowEnd, int colStart, int colEnd) => _run(p, rowStart, rowEnd, colStart, colEnd);

    public override string ToString() => $"{Name} ({MR}×{NR})";
}

internal static unsafe class GemmKernels
{
    public static readonly GemmKernel Avx512 = new("avx512", MicroKernelAvx512.MR, MicroKernelAvx512.NR, &GemmBlocked.Run<MicroKernelAvx512>);
    public static readonly GemmKernel Avx2 = new("avx2", MicroKernelAvx2.MR, MicroKernelAvx2.NR, &GemmBlocked.Run<MicroKernelAvx2>);
    public static readonly GemmKernel Scalar = new("scalar", MicroKernelScalar.MR, MicroKernelScalar.NR, &GemmBlocked.Run<MicroKernelScalar>);

    /// <summary>Every kernel this CPU can run, fastest first.</summary>
    public static IReadOnlyList<GemmKernel> Supported { get; } = new[]
    {
        MicroKernelAvx512.IsSupported ? Avx512 : null,
        MicroKernelAvx2.IsSupported ? Avx2 : null,
        Scalar,
    }.OfType<GemmKernel>().ToArray();

    public static GemmKernel Best => Supported[0];
}
