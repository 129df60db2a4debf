using CrossDistill.Engine.Kernels;
using CrossDistill.Engine.Tests.Determinism;

namespace CrossDistill.Engine.Tests.Kernels;

/// <summary>
/// Sgemm against a double-precision triple loop: every micro-kernel this CPU supports, all four
/// transpose combinations, odd and padded shapes on both the packed and the small-matrix path,
/// alpha/beta variations, batches and fused epilogues.
/// </summary>
// One test switches Workers.Threads, which would change the pieces of every kernel running in parallel.
[Collection(SerialCollection.Name)]
public unsafe class GemmTests
{
    private static readonly object KernelGate = new();

    private static readonly (int M, int N, int K)[] Shapes =
    {
        (1, 1, 1), (2, 2, 2), (7, 7, 7), (13, 13, 13), (16, 16, 16), (17, 17, 17), (31, 31, 31), (33, 33, 33),
        (63, 63, 63), (65, 65, 65), (100, 100, 100),
        (1, 300, 65), (300, 1, 65), (65, 300, 1), (2, 257, 17), (257, 2, 33), (13, 7, 300), (16, 31, 100),
        (257, 33, 100), (33, 257, 63), (100, 65, 300), (17, 100, 257), (300, 300, 31), (63, 63, 257), (257, 257, 257),
    };

    private static readonly (float Alpha, float Beta)[] Scalings = { (1f, 0f), (1f, 1f), (0.5f, -2f), (-1.5f, 0.25f) };

    public static IEnumerable<object[]> ProductCases()
    {
        int index = 0;
        foreach (var kernel in GemmKernels.Supported)
            foreach (bool transA in new[] { false, true })
                foreach (bool transB in new[] { false, true })
                    foreach (var (m, n, k) in Shapes)
                    {
                        var (alpha, beta) = Scalings[index % Scalings.Length];
                        yield return new object[] { kernel.Name, transA, transB, m, n, k, alpha, beta, index % 3 != 0 };
                        index++;
                    }
        // The single large case: several k-blocks, several column blocks, both threads.
        yield return new object[] { GemmKernels.Best.Name, false, true, 513, 300, 513, 1f, 0f, true };
    }

    [Theory]
    [MemberData(nameof(ProductCases))]
    public void MatchesDoublePrecisionReference(string kernel, bool transA, bool transB, int m, int n, int k, float alpha, float beta, bool padded)
    {
        var problem = new Problem(transA, transB, m, n, k, padded, seed: m * 131 + n * 17 + k);
        if (beta == 0f) problem.FillC(float.NaN); // beta = 0 must not read C
        var expected = problem.Reference(alpha, beta);
        WithKernel(kernel, () => problem.Run(alpha, beta));
        problem.AssertMatches(expected, $"{kernel} transA={transA} transB={transB} {m}x{n}x{k} alpha={alpha} beta={beta}");
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, true)]
    public void ZeroDepthAndZeroAlphaOnlyScaleC(bool transA, bool transB)
    {
        var empty = new Problem(transA, transB, 33, 40, 0, padded: true, seed: 5);
        var expected = empty.Reference(1f, 0.5f);
        empty.Run(1f, 0.5f);
        empty.AssertMatches(expected, "k = 0");

        // alpha = 0 leaves A and B unread: NaNs there must not reach C.
        var unread = new Problem(transA, transB, 33, 40, 20, padded: false, seed: 6);
        unread.FillA(float.NaN);
        var scaled = unread.Reference(0f, -2f, ignoreProduct: true);
        unread.Run(0f, -2f);
        unread.AssertMatches(scaled, "alpha = 0");

        var cleared = new Problem(transA, transB, 33, 40, 20, padded: false, seed: 7);
        cleared.FillA(float.NaN);
        cleared.FillC(float.NaN);
        var zeros = cleared.Reference(0f, 0f, ignoreProduct: true);
        cleared.Run(0f, 0f);
        cleared.AssertMatches(zeros, "alpha = 0, beta = 0");
    }

    public static IEnumerable<object[]> EpilogueCases()
    {
        foreach (var kernel in GemmKernels.Supported)
            foreach (var activation in Enum.GetValues<GemmActivation>())
            {
                // Small (unpacked), packed with one k-block, packed with several k-blocks.
                yield return new object[] { kernel.Name, activation, 5, 9, 4, 0f };
                yield return new object[] { kernel.Name, activation, 70, 45, 33, 1f };
                yield return new object[] { kernel.Name, activation, 40, 100, 900, 0.5f };
            }
    }

    [Theory]
    [MemberData(nameof(EpilogueCases))]
    public void EpilogueAddsBiasesAndActivatesOnce(string kernel, GemmActivation activation, int m, int n, int k, float beta)
    {
        foreach (var (useColumnBias, useRowBias) in new[] { (true, false), (false, true), (true, true), (false, false) })
        {
            var problem = new Problem(false, true, m, n, k, padded: true, seed: m + n + k);
            var columnBias = RandomArray(n, 11, 2f);
            var rowBias = RandomArray(m, 12, 2f);
            var expected = problem.Reference(1.25f, beta);
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++)
                {
                    double x = expected[i, j] + (useColumnBias ? columnBias[j] : 0) + (useRowBias ? rowBias[i] : 0);
                    expected[i, j] = Activate(x, activation);
                }
            fixed (float* cb = columnBias)
            fixed (float* rb = rowBias)
            {
                var epilogue = new GemmEpilogue(useColumnBias ? cb : null, useRowBias ? rb : null, activation);
                WithKernel(kernel, () => problem.Run(1.25f, beta, epilogue));
            }
            problem.AssertMatches(expected, $"{kernel} {activation} {m}x{n}x{k} columnBias={useColumnBias} rowBias={useRowBias}");
        }
    }

    [Fact]
    public void EpilogueAppliesWhenDepthIsZero()
    {
        var problem = new Problem(false, false, 6, 20, 0, padded: false, seed: 3);
        problem.FillC(float.NaN);
        var bias = RandomArray(20, 4, 3f);
        var expected = new double[6, 20];
        for (int i = 0; i < 6; i++)
            for (int j = 0; j < 20; j++) expected[i, j] = Math.Max(0, bias[j]);
        fixed (float* b = bias) problem.Run(1f, 0f, GemmEpilogue.WithColumnBias(b, GemmActivation.Relu));
        problem.AssertMatches(expected, "k = 0 with bias and relu");
    }

    [Theory]
    [InlineData(false, false, 65, 65, 64, 192)] // attention-sized: parallel across the batch
    [InlineData(false, true, 65, 65, 64, 7)]
    [InlineData(true, false, 17, 33, 9, 3)]
    [InlineData(true, true, 140, 150, 70, 2)] // large items: each split across threads
    public void BatchedMatchesEachItem(bool transA, bool transB, int m, int n, int k, int batch)
    {
        int aRows = transA ? k : m, aCols = transA ? m : k, bRows = transB ? n : k, bCols = transB ? k : n;
        int lda = aCols + 1, ldb = bCols + 2, ldc = n + 3;
        // Strides larger than one item leave gaps that must stay untouched.
        long strideA = (long)aRows * lda + 5, strideB = (long)bRows * ldb + 7, strideC = (long)m * ldc + 9;
        var a = RandomArray((int)(strideA * batch), 21, 1f);
        var b = RandomArray((int)(strideB * batch), 22, 1f);
        var c = RandomArray((int)(strideC * batch), 23, 1f);
        var original = (float[])c.Clone();
        fixed (float* pa = a)
        fixed (float* pb = b)
        fixed (float* pc = c)
            Gemm.SgemmBatched(transA, transB, m, n, k, 0.75f, pa, lda, strideA, pb, ldb, strideB, -0.5f, pc, ldc, strideC, batch);
        for (int item = 0; item < batch; item++)
        {
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++)
                {
                    double sum = 0, magnitude = 0;
                    for (int p = 0; p < k; p++)
                    {
                        double x = a[item * strideA + (transA ? (long)p * lda + i : (long)i * lda + p)];
                        double y = b[item * strideB + (transB ? (long)j * ldb + p : (long)p * ldb + j)];
                        sum += x * y;
                        magnitude += Math.Abs(x * y);
                    }
                    long at = item * strideC + (long)i * ldc + j;
                    double expected = 0.75 * sum - 0.5 * original[at];
                    double tolerance = 1e-5 * (0.75 * magnitude + 0.5 * Math.Abs(original[at])) + 1e-6;
                    Assert.True(Math.Abs(c[at] - expected) <= tolerance, $"item {item} C[{i},{j}] = {c[at]}, expected {expected}");
                }
            for (long at = item * strideC; at < (item + 1) * strideC; at++)
            {
                long local = at - item * strideC, row = local / ldc, col = local % ldc;
                if (row >= m || col >= n) Assert.Equal(original[at], c[at]);
            }
        }
    }

    [Fact]
    public void ResultsDoNotDependOnTheThreadCount()
    {
        // Packed products split by rows and by columns, and thin unpacked ones split both ways.
        foreach (var (m, n, k) in new[] { (300, 200, 500), (100, 700, 130), (1000, 40, 64), (5, 70, 5000), (10, 4, 30000) })
        {
            var problem = new Problem(false, true, m, n, k, padded: true, seed: 9);
            int threads = Workers.Threads;
            float[] single, several;
            try
            {
                Workers.Threads = 1;
                problem.Run(1f, 0f);
                single = problem.CopyC();
                Workers.Threads = Math.Max(2, threads);
                problem.Run(1f, 0f);
                several = problem.CopyC();
            }
            finally
            {
                Workers.Threads = threads;
            }
            Assert.Equal(single, several);
        }
    }

    [Fact]
    public void BadArgumentsNameTheOpAndArgument()
    {
        var buffer = new float[64];
        fixed (float* p = buffer)
        {
            float* x = p;
            var lda = Assert.Throws<ArgumentException>(() => Gemm.Sgemm(false, false, 4, 4, 8, 1f, x, 7, x, 4, 0f, x, 4));
            Assert.Contains("Sgemm", lda.Message);
            Assert.Contains("lda = 7", lda.Message);
            var ldb = Assert.Throws<ArgumentException>(() => Gemm.Sgemm(false, true, 4, 4, 8, 1f, x, 8, x, 4, 0f, x, 4));
            Assert.Contains("ldb = 4", ldb.Message);
            var ldc = Assert.Throws<ArgumentException>(() => Gemm.Sgemm(false, false, 4, 5, 2, 1f, x, 2, x, 5, 0f, x, 4));
            Assert.Contains("ldc = 4", ldc.Message);
            var negative = Assert.Throws<ArgumentException>(() => Gemm.Sgemm(false, false, -1, 4, 4, 1f, x, 4, x, 4, 0f, x, 4));
            Assert.Contains("non-negative", negative.Message);
            var batch = Assert.Throws<ArgumentException>(() => Gemm.SgemmBatched(false, false, 2, 2, 2, 1f, x, 2, 4, x, 2, 4, 0f, x, 2, 4, -1));
            Assert.Contains("SgemmBatched", batch.Message);
        }
    }

    private static void WithKernel(string name, Action action)
    {
        lock (KernelGate)
        {
            var previous = Gemm.Kernel;
            Gemm.Kernel = GemmKernels.Supported.Single(kernel => kernel.Name == name);
            try { action(); }
            finally { Gemm.Kernel = previous; }
        }
    }

    private static double Activate(double x, GemmActivation activation) => activation switch
    {
        GemmActivation.Relu => Math.Max(0, x),
        GemmActivation.Relu6 => Math.Min(Math.Max(0, x), 6),
        GemmActivation.GeluTanh => 0.5 * x * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x))),
        _ => x,
    };

    private static float[] RandomArray(int length, int seed, float scale)
    {
        var random = new Random(seed);
        var values = new float[length];
        for (int i = 0; i < length; i++) values[i] = (random.NextSingle() * 2f - 1f) * scale;
        return values;
    }

    /// <summary>Operands stored as the transposes say, with optional padding past each row, plus a sentinel-checked C.</summary>
    private sealed class Problem
    {
        private readonly bool _transA, _transB;
        private readonly int _m, _n, _k, _lda, _ldb, _ldc;
        private readonly float[] _a, _b, _c, _originalC;

        public Problem(bool transA, bool transB, int m, int n, int k, bool padded, int seed)
        {
            (_transA, _transB, _m, _n, _k) = (transA, transB, m, n, k);
            int aRows = transA ? k : m, aCols = transA ? m : k, bRows = transB ? n : k, bCols = transB ? k : n;
            _lda = Math.Max(1, aCols + (padded ? 3 : 0));
            _ldb = Math.Max(1, bCols + (padded ? 5 : 0));
            _ldc = n + (padded ? 7 : 0);
            _a = RandomArray(Math.Max(1, aRows * _lda), seed, 1f);
            _b = RandomArray(Math.Max(1, bRows * _ldb), seed + 1, 1f);
            _c = RandomArray(m * _ldc, seed + 2, 1f);
            _originalC = (float[])_c.Clone();
        }

        public void FillA(float value) => Array.Fill(_a, value);

        public void FillC(float value)
        {
            // Only the m×n window, and not the reference copy: beta = 0 runs must not see it.
            for (int i = 0; i < _m; i++)
                for (int j = 0; j < _n; j++) _c[i * _ldc + j] = value;
        }

        public float[] CopyC() => (float[])_c.Clone();

        private double A(int i, int p) => _a[_transA ? p * _lda + i : i * _lda + p];

        private double B(int p, int j) => _b[_transB ? j * _ldb + p : p * _ldb + j];

        public double[,] Reference(float alpha, float beta, bool ignoreProduct = false)
        {
            var expected = new double[_m, _n];
            for (int i = 0; i < _m; i++)
                for (int j = 0; j < _n; j++)
                {
                    double sum = 0;
                    if (!ignoreProduct)
                        for (int p = 0; p < _k; p++) sum += A(i, p) * B(p, j);
                    expected[i, j] = alpha * sum + (beta == 0f ? 0 : beta * (double)_originalC[i * _ldc + j]);
                }
            return expected;
        }

        public void Run(float alpha, float beta, GemmEpilogue epilogue = default)
        {
            fixed (float* a = _a)
            fixed (float* b = _b)
            fixed (float* c = _c)
                Gemm.Sgemm(_transA, _transB, _m, _n, _k, alpha, a, _lda, b, _ldb, beta, c, _ldc, epilogue);
        }

        /// <summary>Relative to the magnitude of the terms summed (|alpha|·Σ|a·b| + |beta·c|), which grows with k.</summary>
        public void AssertMatches(double[,] expected, string what)
        {
            for (int i = 0; i < _m; i++)
            {
                for (int j = 0; j < _n; j++)
                {
                    double magnitude = Math.Abs(_originalC[i * _ldc + j]) + Math.Abs(expected[i, j]);
                    for (int p = 0; p < _k; p++)
                    {
                        double term = Math.Abs(A(i, p) * B(p, j));
                        if (double.IsFinite(term)) magnitude += term; // NaN-filled A in the alpha = 0 cases
                    }
                    double tolerance = 1e-5 * magnitude * 2 + 1e-6;
                    float actual = _c[i * _ldc + j];
                    Assert.True(Math.Abs(actual - expected[i, j]) <= tolerance,
                        $"{what}: C[{i},{j}] = {actual}, expected {expected[i, j]} (tolerance {tolerance:G3})");
                }
                for (int j = _n; j < _ldc; j++)
                    Assert.True(_c[i * _ldc + j].Equals(_originalC[i * _ldc + j]), $"{what}: padding C[{i},{j}] was overwritten");
            }
        }
    }
}
