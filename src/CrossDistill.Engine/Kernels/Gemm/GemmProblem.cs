namespace CrossDistill.Engine.Kernels;

/// <summary>
/// One SGEMM call with the transposes folded into strides: op(A)(i, p) = A[i·ARowStride + p·AColStride]
/// and op(B)(p, j) = B[p·BRowStride + j·BColStride], so packing and the small-matrix path read either
/// layout through the same indexing.
/// </summary>
internal readonly unsafe struct GemmProblem
{
    public GemmProblem(bool transA, bool transB, int m, int n, int k, float alpha, float* a, int lda,
        float* b, int ldb, float beta, float* c, int ldc, in GemmEpilogue epilogue)
    {
        M = m;
        N = n;
        K = k;
        Alpha = alpha;
        Beta = beta;
        A = a;
        ARowStride = transA ? 1 : lda;
        AColStride = transA ? lda : 1;
        B = b;
        BRowStride = transB ? 1 : ldb;
        BColStride = transB ? ldb : 1;
        C = c;
        Ldc = ldc;
        Epilogue = epilogue;
    }

    public int M { get; }
    public int N { get; }
    public int K { get; }
    public float Alpha { get; }
    public float Beta { get; }
    public float* A { get; }
    public long ARowStride { get; }
    public long AColStride { get; }
    public float* B { get; }
    public long BRowStride { get; }
    public long BColStride { get; }
    public float* C { get; }
    public long Ldc { get; }
    public GemmEpilogue Epilogue { get; }

    /// <summary>Multiply-adds the product needs.</summary>
    public long Macs => (long)M * N * K;

    /// <summary>The same product on other matrices (one item of a batch).</summary>
    public GemmProblem WithMatrices(float* a, float* b, float* c) => new(this, a, b, c);

    private GemmProblem(in GemmProblem p, float* a, float* b, float* c)
    {
        this = p;
        A = a;
        B = b;
        C = c;
    }
}
