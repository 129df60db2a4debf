using System.Runtime.Intrinsics.X86;

namespace CrossDistill.Engine.Kernels;

/// <summary>
/// Single-precision matrix products on row-major data:
/// C[m×n] = alpha · op(A)[m×k] · op(B)[k×n] + beta · C, where op(X) is X or Xᵀ and lda/ldb/ldc are
/// the row strides of A, B and C as stored. beta = 0 overwrites C without reading it (NaN-safe); k = 0
/// or alpha = 0 leave A and B unread. Each C element's sum over k runs in an order fixed by the shape,
/// so results do not depend on the thread count or on timing.
/// </summary>
public static unsafe class Gemm
{
    /// <summary>Below this many multiply-adds a product runs unpacked: packing would cost more than it saves.</summary>
    internal const long DirectMacs = 20_000;

    /// <summary>Below this many multiply-adds a product stays on one thread (a hand-off costs about a microsecond).</summary>
    internal const long ParallelMacs = 128 * 128 * 64;

    /// <summary>Chunks per thread a parallel product is cut into (each chunk packs the shared operand again).</summary>
    internal const int ChunksPerThread = 3;

    /// <summary>Shortest chunk, in rows or columns of C, so repacking a cache-sized shared operand stays around a percent.</summary>
    internal const int MinChunkLength = 128;

    /// <summary>A shared operand up to this size (half of L2) repacks from cache; larger ones need four times longer chunks.</summary>
    internal const long CacheSizedFloats = 128 * 1024;

    /// <summary>Multiply-adds a thread claims at a time from a batch of small items.</summary>
    internal const long ClaimMacs = 256 * 1024;

    /// <summary>The micro-kernel the packed path runs; chosen once from the CPU, overridable by tests.</summary>
    internal static GemmKernel Kernel { get; set; } = GemmKernels.Best;

    /// <summary>The packed path's micro-kernel, e.g. "avx512 (12×32)".</summary>
    public static string KernelDescription => Kernel.ToString();

    public static void Sgemm(bool transA, bool transB, int m, int n, int k, float alpha,
        float* a, int lda, float* b, int ldb, float beta, float* c, int ldc)
        => Sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, default);

    /// <summary>
    /// C = act(alpha·op(A)·op(B) + beta·C + columnBias[j] + rowBias[i]), with the biases and the
    /// activation applied as C is written, so fused layers make one pass over their output.
    /// </summary>
    public static void Sgemm(bool transA, bool transB, int m, int n, int k, float alpha,
        float* a, int lda, float* b, int ldb, float beta, float* c, int ldc, in GemmEpilogue epilogue)
    {
        Validate("Sgemm", transA, transB, m, n, k, a, lda, b, ldb, c, ldc, 1, 0, 0, 0);
        if (m == 0 || n == 0) return;
        FlopCounter.AddMultiplyAdds((long)m * n * k);
        var problem = new GemmProblem(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, epilogue);
        Execute(problem, Workers.Threads);
    }

    /// <summary>Independent products of a batch: matrix i of A, B and C starts strideA·i, strideB·i, strideC·i elements in.</summary>
    public static void SgemmBatched(bool transA, bool transB, int m, int n, int k, float alpha,
        float* a, int lda, long strideA, float* b, int ldb, long strideB, float beta, float* c, int ldc, long strideC, int batch)
        => SgemmBatched(transA, transB, m, n, k, alpha, a, lda, strideA, b, ldb, strideB, beta, c, ldc, strideC, batch, default);

    /// <summary>The batched product with an epilogue shared by every item (the biases index columns and rows of each item).</summary>
    public static void SgemmBatched(bool transA, bool transB, int m, int n, int k, float alpha,
        float* a, int lda, long strideA, float* b, int ldb, long strideB, float beta, float* c, int ldc, long strideC, int batch,
        in GemmEpilogue epilogue)
    {
        Validate("SgemmBatched", transA, transB, m, n, k, a, lda, b, ldb, c, ldc, batch, strideA, strideB, strideC);
        if (m == 0 || n == 0 || batch == 0) return;
        FlopCounter.AddMultiplyAdds((long)m * n * k * batch);
        var problem = new GemmProblem(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, epilogue);
        int threads = Workers.Threads;
        // Many small items: one whole item per thread at a time beats splitting each item. Threads
        // claim groups of items as they free up, so one slowed by a neighbouring process takes fewer.
        if (batch >= 4 * threads || problem.Macs < ParallelMacs)
        {
            int perClaim = (int)Math.Clamp(ClaimMacs / Math.Max(1, problem.Macs), 1, batch);
            int claims = (batch + perClaim - 1) / perClaim;
            int parts = problem.Macs * batch < ParallelMacs ? 1 : Math.Min(threads, claims);
            int next = 0;
            Workers.For(parts, 1, (_, _) =>
            {
                for (int claim; (claim = Interlocked.Increment(ref next) - 1) < claims;)
                {
                    for (int i = claim * perClaim, end = Math.Min(batch, i + perClaim); i < end; i++)
                    {
                        // The next item's operands move towards L2 while this one computes.
                        if (i + 1 < batch)
                        {
                            Prefetch(problem.A + (i + 1) * strideA, transA ? k : m, transA ? m : k, lda);
                            Prefetch(problem.B + (i + 1) * strideB, transB ? n : k, transB ? k : n, ldb);
                            Prefetch(problem.C + (i + 1) * strideC, m, n, ldc);
                        }
                        Execute(problem.WithMatrices(problem.A + i * strideA, problem.B + i * strideB, problem.C + i * strideC), 1);
                    }
                }
            });
            return;
        }
        for (int i = 0; i < batch; i++)
            Execute(problem.WithMatrices(problem.A + i * strideA, problem.B + i * strideB, problem.C + i * strideC), threads);
    }

    private static void Execute(in GemmProblem p, int threads)
    {
        if (p.K == 0 || p.Alpha == 0f)
        {
            ScaleOnly(p);
            return;
        }
        var kernel = Kernel;
        // Thin products: packing B for a handful of A rows costs about as much as the product; narrow
        // C with contiguous A rows is a set of dot products.
        bool direct = p.Macs <= DirectMacs || p.M < kernel.MR / 2 || (p.N < kernel.NR / 4 && p.AColStride == 1);
        int parts = p.Macs < ParallelMacs ? 1 : threads;
        // Split along the longer side: the other operand is packed by every chunk, so its size is the cost.
        bool splitRows = p.M >= p.N;
        int length = splitRows ? p.M : p.N;
        int unit = direct ? (splitRows ? 1 : 64) : splitRows ? kernel.MR : kernel.NR;
        int units = (length + unit - 1) / unit;
        parts = Math.Min(parts, units);
        if (parts <= 1)
        {
            RunPart(p, kernel, direct, 0, p.M, 0, p.N);
            return;
        }
        // A few chunks per thread, claimed as threads free up: a thread slowed by a neighbouring process
        // takes fewer instead of holding everyone up. Chunk bounds depend on the shape alone, and no C
        // element's arithmetic depends on the chunk it falls in, so results stay the same bit for bit.
        // Each chunk packs the other operand again: cheap while it is cache-sized, not once it streams from memory.
        long sharedFloats = (long)p.K * (splitRows ? p.N : p.M);
        int minChunk = sharedFloats <= CacheSizedFloats ? MinChunkLength : 4 * MinChunkLength;
        int chunks = Math.Clamp(length / minChunk, parts, Math.Min(units, parts * ChunksPerThread));
        var problem = p;
        int next = 0;
        Workers.For(parts, 1, (_, _) =>
        {
            for (int chunk; (chunk = Interlocked.Increment(ref next) - 1) < chunks;)
            {
                int from = (int)Math.Min((long)units * chunk / chunks * unit, length);
                int to = (int)Math.Min((long)units * (chunk + 1) / chunks * unit, length);
                if (splitRows) RunPart(problem, kernel, direct, from, to, 0, problem.N);
                else RunPart(problem, kernel, direct, 0, problem.M, from, to);
            }
        });
    }

    private static void RunPart(in GemmProblem p, GemmKernel kernel, bool direct, int rowStart, int rowEnd, int colStart, int colEnd)
    {
        if (direct) GemmDirect.Run(p, rowStart, rowEnd, colStart, colEnd);
        else kernel.Run(p, rowStart, rowEnd, colStart, colEnd);
    }

    /// <summary>Prefetches a rows×cols row-major matrix into L2, but only a small one (an item of an attention-sized batch).</summary>
    private static void Prefetch(float* matrix, int rows, int cols, long ld)
    {
        if (!Sse.IsSupported || (long)rows * cols > 16 * 1024) return;
        for (int r = 0; r < rows; r++)
        {
            float* row = matrix + r * ld;
            for (int j = 0; j < cols; j += 16) Sse.Prefetch1(row + j);
            Sse.Prefetch1(row + cols - 1);
        }
    }

    private static void ScaleOnly(in GemmProblem p)
    {
        var writeBack = new GemmWriteBack(0f, p.Beta, finishes: true, p.Epilogue);
        for (int i = 0; i < p.M; i++) writeBack.Row(null, p.C + i * p.Ldc, p.N, i, 0);
    }

    private static void Validate(string op, bool transA, bool transB, int m, int n, int k, float* a, int lda, float* b, int ldb,
        float* c, int ldc, int batch, long strideA, long strideB, long strideC)
    {
        string shape = $"(m={m}, n={n}, k={k}, transA={transA}, transB={transB})";
        if (m < 0 || n < 0 || k < 0) throw new ArgumentException($"{op}: m, n and k must be non-negative {shape}.");
        if (batch < 0) throw new ArgumentException($"{op}: batch = {batch} must be non-negative.", nameof(batch));
        int aCols = transA ? m : k, bCols = transB ? k : n;
        if (lda < Math.Max(1, aCols))
            throw new ArgumentException($"{op}: lda = {lda} is less than the {aCols} columns of A as stored {shape}.", nameof(lda));
        if (ldb < Math.Max(1, bCols))
            throw new ArgumentException($"{op}: ldb = {ldb} is less than the {bCols} columns of B as stored {shape}.", nameof(ldb));
        if (ldc < Math.Max(1, n))
            throw new ArgumentException($"{op}: ldc = {ldc} is less than the {n} columns of C {shape}.", nameof(ldc));
        if (m == 0 || n == 0 || batch == 0) return;
        if (c == null) throw new ArgumentException($"{op}: C is null {shape}.", nameof(c));
        if (k > 0 && (a == null || b == null)) throw new ArgumentException($"{op}: A or B is null {shape}.");
        if (batch > 1 && (strideA < 0 || strideB < 0 || strideC < 0))
            throw new ArgumentException($"{op}: batch strides must be non-negative (strideA={strideA}, strideB={strideB}, strideC={strideC}).");
    }
}
