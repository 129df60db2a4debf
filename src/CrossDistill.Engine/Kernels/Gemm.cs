using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace CrossDistill.Engine.Kernels;

/// <summary>
/// Single-precision matrix products on row-major data:
/// C[m×n] = alpha · op(A)[m×k] · op(B)[k×n] + beta · C, where op(X) is X or Xᵀ and
/// lda/ldb/ldc are the row strides of A, B and C as stored.
/// </summary>
public static unsafe class Gemm
{
    public static void Sgemm(bool transA, bool transB, int m, int n, int k, float alpha,
        float* a, int lda, float* b, int ldb, float beta, float* c, int ldc)
    {
        if (m == 0 || n == 0) return;
        // Row-panel form: every C row is a sum of B rows scaled by entries of A. B rows must be unit-stride.
        float* bRows = b;
        int bStride = ldb;
        float[]? packed = null;
        if (transB)
        {
            packed = GC.AllocateUninitializedArray<float>(k * n, pinned: true);
            fixed (float* p = packed)
                for (int j = 0; j < n; j++)
                    for (int p2 = 0; p2 < k; p2++) p[(long)p2 * n + j] = b[(long)j * ldb + p2];
            bRows = (float*)Unsafe.AsPointer(ref packed[0]);
            bStride = n;
        }
        nint pa = (nint)a, pb = (nint)bRows, pc = (nint)c;
        Workers.For(m, Math.Max(1, (1 << 16) / Math.Max(1, n * Math.Max(k, 1))), (start, end) =>
        {
            for (int i = start; i < end; i++)
            {
                float* crow = (float*)pc + (long)i * ldc;
                ScaleRow(crow, n, beta);
                for (int p2 = 0; p2 < k; p2++)
                {
                    float av = transA ? ((float*)pa)[(long)p2 * lda + i] : ((float*)pa)[(long)i * lda + p2];
                    if (av == 0f) continue;
                    Axpy(alpha * av, (float*)pb + (long)p2 * bStride, crow, n);
                }
            }
        });
        GC.KeepAlive(packed);
    }

    /// <summary>Independent products of a batch: matrix i of A, B and C starts strideA·i, strideB·i, strideC·i elements in.</summary>
    public static void SgemmBatched(bool transA, bool transB, int m, int n, int k, float alpha,
        float* a, int lda, long strideA, float* b, int ldb, long strideB, float beta, float* c, int ldc, long strideC, int batch)
    {
        for (int i = 0; i < batch; i++)
            Sgemm(transA, transB, m, n, k, alpha, a + i * strideA, lda, b + i * strideB, ldb, beta, c + i * strideC, ldc);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ScaleRow(float* row, int n, float beta)
    {
        if (beta == 0f) { new Span<float>(row, n).Clear(); return; }
        if (beta == 1f) return;
        for (int j = 0; j < n; j++) row[j] *= beta;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Axpy(float s, float* x, float* y, int n)
    {
        int j = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            var vs = Vector512.Create(s);
            for (; j <= n - 16; j += 16) Vector512.Store(Vector512.FusedMultiplyAdd(vs, Vector512.Load(x + j), Vector512.Load(y + j)), y + j);
        }
        for (; j < n; j++) y[j] += s * x[j];
    }
}
