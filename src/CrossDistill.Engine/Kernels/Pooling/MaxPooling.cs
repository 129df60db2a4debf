using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CrossDistill.Engine.Kernels;

/// <summary>
/// Max pooling over windows on row-major [planes, H, W, channels] data, recording for every output
/// the flat position ih·W + iw of its maximum: the first in row-major window order on ties, the
/// last NaN if there is one (PyTorch's rule: a value is taken when v &gt; best or v is NaN).
/// One channel (row-major NCHW planes) is pooled separably: a vectorised pass down the window rows
/// keeps each column's best value and position, then a short pass across the columns picks the
/// best of those with the same tie rule. Channels-last runs Vector512 compares across channels.
/// </summary>
internal static unsafe class MaxPooling
{
    /// <param name="argmax">Where to store the positions, or null when no backward will run.</param>
    public static void Forward(float* x, float* output, int* argmax, int planes, int height, int width, int channels, PoolWindows rows, PoolWindows cols)
    {
        int outH = rows.Length, outW = cols.Length;
        if (planes == 0 || outH == 0 || outW == 0 || channels == 0) return;
        long inPlane = (long)height * width * channels, rowLength = (long)outW * channels;
        long work = rowLength * (rows.End[0] - rows.Start[0] + 1) * (cols.End[0] - cols.Start[0] + 1) + (channels == 1 ? width : 0);
        nint px = (nint)x, po = (nint)output, pa = (nint)argmax;
        Workers.For(planes * outH, Math.Max(1, (int)((1 << 15) / Math.Max(1, work))), (start, end) =>
        {
            if (channels == 1)
            {
                var columns = ArrayPool<float>.Shared.Rent(width);
                var columnAt = ArrayPool<int>.Shared.Rent(width);
                fixed (float* best = columns)
                fixed (int* bestAt = columnAt)
                    for (int t = start; t < end; t++)
                    {
                        int p = t / outH, r = t % outH;
                        PlaneRow((float*)px + p * inPlane, width, rows.Start[r], rows.End[r], rows.Step, cols,
                            best, bestAt, (float*)po + t * rowLength, pa == 0 ? null : (int*)pa + t * rowLength);
                    }
                ArrayPool<float>.Shared.Return(columns);
                ArrayPool<int>.Shared.Return(columnAt);
                return;
            }
            for (int t = start; t < end; t++)
            {
                int p = t / outH, r = t % outH;
                float* plane = (float*)px + p * inPlane;
                float* dst = (float*)po + t * rowLength;
                int* at = pa == 0 ? null : (int*)pa + t * rowLength;
                for (int q = 0; q < outW; q++)
                    ChannelWindow(plane, width, channels, rows.Start[r], rows.End[r], rows.Step, cols.Start[q], cols.End[q], cols.Step,
                        dst + (long)q * channels, at == null ? null : at + (long)q * channels);
            }
        });
    }

    /// <summary>One output row of a one-channel plane: rows h0, h0 + hs, … below h1, then each column window.</summary>
    private static void PlaneRow(float* plane, int width, int h0, int h1, int hs, PoolWindows cols, float* best, int* bestAt, float* dst, int* argmax)
    {
        int outW = cols.Length;
        if (h0 >= h1)
        {
            for (int q = 0; q < outW; q++)
            {
                dst[q] = float.NegativeInfinity;
                if (argmax != null) argmax[q] = -1;
            }
            return;
        }
        ColumnBest(plane, width, h0, h1, hs, best, bestAt);
        int rowStart = h0 * width;
        fixed (int* starts = cols.Start, ends = cols.End)
        {
            int q = 0;
            if (Avx2.IsSupported)
                for (; q <= outW - 8; q += 8)
                {
                    if (!GatherOutputs(best, bestAt, starts, ends, cols.Step, rowStart, q, dst, argmax))
                        for (int k = q; k < q + 8; k++) ScalarOutput(best, bestAt, starts[k], ends[k], cols.Step, rowStart, dst + k, argmax == null ? null : argmax + k);
                }
            for (; q < outW; q++) ScalarOutput(best, bestAt, starts[q], ends[q], cols.Step, rowStart, dst + q, argmax == null ? null : argmax + q);
        }
    }

    /// <summary>The best of the column bests w0, w0 + ws, … below w1, in row-major order across the window.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void ScalarOutput(float* best, int* bestAt, int w0, int w1, int ws, int rowStart, float* dst, int* argmax)
    {
        float v = float.NegativeInfinity;
        int at = w0 < w1 ? rowStart + w0 : -1;
        for (int iw = w0; iw < w1; iw += ws)
        {
            float c = best[iw];
            int ca = bestAt[iw];
            // The smaller position wins a tie, the larger one a NaN: PyTorch's scan of the whole window.
            bool take = float.IsNaN(c) ? !float.IsNaN(v) || ca > at : c > v || (c == v && ca < at);
            if (take) { v = c; at = ca; }
        }
        *dst = v;
        if (argmax != null) *argmax = at;
    }

    /// <summary>
    /// Eight outputs at once through AVX2 gathers, when their windows have the same number of taps
    /// (every block away from the borders). Returns false for a block that must go scalar.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool GatherOutputs(float* best, int* bestAt, int* starts, int* ends, int ws, int rowStart, int q, float* dst, int* argmax)
    {
        int taps = (ends[q] - starts[q] + ws - 1) / ws;
        if (taps <= 0) return false;
        for (int k = q + 1; k < q + 8; k++)
            if ((ends[k] - starts[k] + ws - 1) / ws != taps) return false;
        var first = Vector256.Load(starts + q);
        var v = Vector256.Create(float.NegativeInfinity);
        var at = Vector256.Create(rowStart) + first;
        for (int j = 0; j < taps; j++)
        {
            var index = first + Vector256.Create(j * ws);
            var c = Avx2.GatherVector256(best, index, 4);
            var ca = Avx2.GatherVector256(bestAt, index, 4);
            var cNaN = ~Vector256.Equals(c, c);
            var vNaN = ~Vector256.Equals(v, v);
            var later = Vector256.GreaterThan(ca, at).AsSingle();
            var earlier = Vector256.LessThan(ca, at).AsSingle();
            var take = (cNaN & (~vNaN | later)) | Vector256.AndNot(Vector256.GreaterThan(c, v) | (Vector256.Equals(c, v) & earlier), cNaN);
            v = Vector256.ConditionalSelect(take, c, v);
            at = Vector256.ConditionalSelect(take.AsInt32(), ca, at);
        }
        Vector256.Store(v, dst + q);
        if (argmax != null) Vector256.Store(at, argmax + q);
        return true;
    }

    /// <summary>Per column: the best value over the window rows and its flat position.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ColumnBest(float* plane, int width, int h0, int h1, int hs, float* best, int* bestAt)
    {
        int iw = 0;
        float* first = plane + (long)h0 * width;
        if (Vector512.IsHardwareAccelerated)
        {
            var lanes = Vector512.Create(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
            for (; iw <= width - 16; iw += 16)
            {
                var b = Vector512.Load(first + iw);
                var ba = Vector512.Create(h0 * width + iw) + lanes;
                for (int ih = h0 + hs; ih < h1; ih += hs)
                {
                    var v = Vector512.Load(plane + (long)ih * width + iw);
                    var take = Vector512.GreaterThan(v, b) | ~Vector512.Equals(v, v);
                    b = Vector512.ConditionalSelect(take, v, b);
                    ba = Vector512.ConditionalSelect(take.AsInt32(), Vector512.Create(ih * width + iw) + lanes, ba);
                }
                Vector512.Store(b, best + iw);
                Vector512.Store(ba, bestAt + iw);
            }
        }
        for (; iw < width; iw++)
        {
            float b = first[iw];
            int ba = h0 * width + iw;
            for (int ih = h0 + hs; ih < h1; ih += hs)
            {
                float v = plane[(long)ih * width + iw];
                if (v > b || float.IsNaN(v)) { b = v; ba = ih * width + iw; }
            }
            best[iw] = b;
            bestAt[iw] = ba;
        }
    }

    /// <summary>One output pixel across all channels: 64 at a time in four Vector512 lanes, then 16, then single channels.</summary>
    private static void ChannelWindow(float* plane, int width, int channels, int h0, int h1, int hs, int w0, int w1, int ws, float* dst, int* argmax)
    {
        int first = h0 < h1 && w0 < w1 ? h0 * width + w0 : -1;
        int c = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            var lowest = Vector512.Create(float.NegativeInfinity);
            for (; c <= channels - 64; c += 64)
            {
                Vector512<float> b0 = lowest, b1 = lowest, b2 = lowest, b3 = lowest;
                Vector512<int> a0 = Vector512.Create(first), a1 = a0, a2 = a0, a3 = a0;
                for (int ih = h0; ih < h1; ih += hs)
                    for (int iw = w0; iw < w1; iw += ws)
                    {
                        int at = ih * width + iw;
                        var vat = Vector512.Create(at);
                        float* src = plane + (long)at * channels + c;
                        Take(Vector512.Load(src), vat, ref b0, ref a0);
                        Take(Vector512.Load(src + 16), vat, ref b1, ref a1);
                        Take(Vector512.Load(src + 32), vat, ref b2, ref a2);
                        Take(Vector512.Load(src + 48), vat, ref b3, ref a3);
                    }
                Vector512.Store(b0, dst + c);
                Vector512.Store(b1, dst + c + 16);
                Vector512.Store(b2, dst + c + 32);
                Vector512.Store(b3, dst + c + 48);
                if (argmax != null)
                {
                    Vector512.Store(a0, argmax + c);
                    Vector512.Store(a1, argmax + c + 16);
                    Vector512.Store(a2, argmax + c + 32);
                    Vector512.Store(a3, argmax + c + 48);
                }
            }
            for (; c <= channels - 16; c += 16)
            {
                var b = lowest;
                var a = Vector512.Create(first);
                for (int ih = h0; ih < h1; ih += hs)
                    for (int iw = w0; iw < w1; iw += ws)
                    {
                        int at = ih * width + iw;
                        Take(Vector512.Load(plane + (long)at * channels + c), Vector512.Create(at), ref b, ref a);
                    }
                Vector512.Store(b, dst + c);
                if (argmax != null) Vector512.Store(a, argmax + c);
            }
        }
        for (; c < channels; c++)
        {
            float best = float.NegativeInfinity;
            int bestAt = first;
            for (int ih = h0; ih < h1; ih += hs)
                for (int iw = w0; iw < w1; iw += ws)
                {
                    int at = ih * width + iw;
                    float v = plane[(long)at * channels + c];
                    if (v > best || float.IsNaN(v)) { best = v; bestAt = at; }
                }
            dst[c] = best;
            if (argmax != null) argmax[c] = bestAt;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Take(Vector512<float> v, Vector512<int> at, ref Vector512<float> best, ref Vector512<int> bestAt)
    {
        var take = Vector512.GreaterThan(v, best) | ~Vector512.Equals(v, v);
        best = Vector512.ConditionalSelect(take, v, best);
        bestAt = Vector512.ConditionalSelect(take.AsInt32(), at, bestAt);
    }

    /// <summary>
    /// gx[p, argmax, c] += g[p, o, c], skipping windows that had no tap inside the input (argmax −1).
    /// Work splits by plane and channel block, so each input element takes its contributions in
    /// output order on any number of threads.
    /// </summary>
    public static void Backward(float* g, int* argmax, float* gx, int planes, int height, int width, int channels, int outH, int outW)
    {
        if (planes == 0 || outH == 0 || outW == 0 || channels == 0) return;
        const int block = 64;
        int blocks = (channels + block - 1) / block;
        long inPlane = (long)height * width * channels, outPixels = (long)outH * outW, outPlane = outPixels * channels;
        nint pg = (nint)g, pa = (nint)argmax, pgx = (nint)gx;
        Workers.For(planes * blocks, Math.Max(1, (int)((1 << 15) / Math.Max(1, outPlane / blocks))), (start, end) =>
        {
            for (int t = start; t < end; t++)
            {
                int p = t / blocks, c0 = t % blocks * block, c1 = Math.Min(channels, c0 + block);
                float* dst = (float*)pgx + p * inPlane;
                float* src = (float*)pg + p * outPlane;
                int* at = (int*)pa + p * outPlane;
                if (channels == 1)
                {
                    for (long o = 0; o < outPixels; o++)
                        if (at[o] >= 0) dst[at[o]] += src[o];
                }
                else
                    for (long o = 0; o < outPixels; o++)
                    {
                        long row = o * channels;
                        for (int c = c0; c < c1; c++)
                            if (at[row + c] >= 0) dst[(long)at[row + c] * channels + c] += src[row + c];
                    }
            }
        });
    }
}
