using System.Runtime.InteropServices;
using CrossDistill.Engine.Kernels;

namespace CrossDistill.Bench.Suites;

/// <summary>SGEMM throughput on square sizes and on the GEMMs of ViT-Tiny and ResNet-18 (CIFAR) layers.</summary>
public sealed class GemmSuite : IBenchSuite
{
    public string Name => "gemm";

    public string Description => "SGEMM GFLOP/s: square 256–2048, ViT-Tiny linear and attention, ResNet-18 im2col convolutions";

    public sealed record GemmCase(string Name, int M, int N, int K, bool TransA = false, bool TransB = false, int Batch = 1)
    {
        /// <summary>"MxNxK" with ",tA", ",tB" and ",bBATCH" suffixes; pytorch_bench.py formats it the same way.</summary>
        public string Shape => $"{M}x{N}x{K}{(TransA ? ",tA" : "")}{(TransB ? ",tB" : "")}{(Batch > 1 ? $",b{Batch}" : "")}";
    }

    public sealed record GemmCases(IReadOnlyList<GemmCase> Cases);

    public static IReadOnlyList<GemmCase> Cases => CaseFile.Load<GemmCases>("gemm.json").Cases;

    public IReadOnlyList<string> CaseNames => Cases.Select(c => c.Name).ToArray();

    public IEnumerable<BenchResult> Run(BenchOptions options)
    {
        foreach (var gemmCase in Cases.Where(c => options.Includes(c.Name))) yield return Measure(gemmCase, options);
    }

    private unsafe BenchResult Measure(GemmCase g, BenchOptions options)
    {
        long aSize = (long)g.M * g.K, bSize = (long)g.K * g.N, cSize = (long)g.M * g.N;
        float* a = Allocate(aSize * g.Batch, seed: 1);
        float* b = Allocate(bSize * g.Batch, seed: 2);
        float* c = Allocate(cSize * g.Batch, seed: 3);
        try
        {
            int lda = g.TransA ? g.M : g.K, ldb = g.TransB ? g.K : g.N;
            double seconds = Timing.MedianSeconds(() =>
            {
                if (g.Batch == 1) Gemm.Sgemm(g.TransA, g.TransB, g.M, g.N, g.K, 1f, a, lda, b, ldb, 0f, c, g.N);
                else Gemm.SgemmBatched(g.TransA, g.TransB, g.M, g.N, g.K, 1f, a, lda, aSize, b, ldb, bSize, 0f, c, g.N, cSize, g.Batch);
            }, options);
            double flops = 2.0 * g.M * g.N * g.K * g.Batch;
            return new BenchResult(Name, g.Name, g.Shape, "throughput", flops / seconds / 1e9, "GFLOP/s");
        }
        finally
        {
            NativeMemory.AlignedFree(a);
            NativeMemory.AlignedFree(b);
            NativeMemory.AlignedFree(c);
        }
    }

    private static unsafe float* Allocate(long count, int seed)
    {
        var p = (float*)NativeMemory.AlignedAlloc((nuint)(count * sizeof(float)), 64);
        var random = new Random(seed);
        for (long i = 0; i < count; i++) p[i] = random.NextSingle() * 2f - 1f;
        return p;
    }
}
