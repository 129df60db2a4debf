namespace CrossDistill.Engine.Kernels;

/// <summary>
/// Convolutions as matrix products on NHWC data, where an output is the [N·OH·OW, Cout] row-major
/// matrix and the weight is packed OHWI ([Cout, KH·KW·Cin/groups], one block of rows per group).
/// A pointwise (1×1, stride 1, no padding) convolution multiplies the input's [N·H·W, Cin] matrix
/// directly. Anything else goes through im2col a band of output pixels at a time, so the column
/// buffer stays bounded (and bands may span images: small late-stage images still make tall GEMMs).
/// </summary>
internal static unsafe class ConvGemm
{
    /// <summary>Floats in one im2col band (4 MB): large enough for efficient GEMMs, small enough to stay in L3.</summary>
    public const int DefaultBandFloats = 1 << 20;

    public static int BandRows(in ConvGeometry g, int bandFloats)
        => Math.Clamp(bandFloats / Im2Col.RowStride(g), 1, Math.Max(g.OutputPixels, 1));

    /// <summary>y = conv(x) + bias, with x and y NHWC, <paramref name="w"/> packed OHWI, bias dense [Cout] or null.</summary>
    public static void Forward(ConvGeometry g, float* x, float* w, float* bias, float* y, bool pointwise, int bandFloats = DefaultBandFloats)
    {
        int pixels = g.OutputPixels, cog = g.CoutPerGroup, cig = g.CinPerGroup, k = g.GroupColumns;
        if (pixels == 0) return;
        float beta = bias is null ? 0f : 1f;
        if (pointwise)
        {
            if (bias is not null) MatrixProduct.FillRows(y, pixels, g.Cout, bias, g.Cout);
            for (int grp = 0; grp < g.Groups; grp++)
                Gemm.Sgemm(false, true, pixels, cog, cig, 1f, x + grp * cig, g.Cin, w + (long)grp * cog * k, k, beta, y + grp * cog, g.Cout);
            return;
        }
        int band = BandRows(g, bandFloats), colStride = Im2Col.RowStride(g);
        using var colBuffer = Tensor.Empty([band * colStride]);
        float* col = colBuffer.DataPtr;
        for (int p0 = 0; p0 < pixels; p0 += band)
        {
            int rows = Math.Min(band, pixels - p0);
            Im2Col.Gather(g, x, p0, rows, col, colStride);
            float* yBand = y + (long)p0 * g.Cout;
            if (bias is not null) MatrixProduct.FillRows(yBand, rows, g.Cout, bias, g.Cout);
            for (int grp = 0; grp < g.Groups; grp++)
                Gemm.Sgemm(false, true, rows, cog, k, 1f, col + grp * k, colStride, w + (long)grp * cog * k, k, beta, yBand + grp * cog, g.Cout);
        }
    }

    /// <summary>
    /// From the NHWC output gradient <paramref name="dy"/>: the NHWC input gradient (when
    /// <paramref name="dx"/> is not null; it must be zeroed unless the convolution is pointwise) and
    /// the OHWI weight gradient (when <paramref name="dw"/> is not null; overwritten).
    /// </summary>
    public static void Backward(ConvGeometry g, float* x, float* w, float* dy, float* dx, float* dw, bool pointwise, int bandFloats = DefaultBandFloats)
    {
        int pixels = g.OutputPixels, cog = g.CoutPerGroup, cig = g.CinPerGroup, k = g.GroupColumns;
        if (pixels == 0)
        {
            if (dw is not null) new Span<float>(dw, g.Cout * k).Clear();
            return;
        }
        if (pointwise)
        {
            for (int grp = 0; grp < g.Groups; grp++)
            {
                float* dyGroup = dy + grp * cog;
                // dx = dy·W, dW = dyᵀ·x
                if (dx is not null) Gemm.Sgemm(false, false, pixels, cig, cog, 1f, dyGroup, g.Cout, w + (long)grp * cog * k, k, 0f, dx + grp * cig, g.Cin);
                if (dw is not null) Gemm.Sgemm(true, false, cog, cig, pixels, 1f, dyGroup, g.Cout, x + grp * cig, g.Cin, 0f, dw + (long)grp * cog * k, k);
            }
            return;
        }
        int band = BandRows(g, bandFloats), colStride = Im2Col.RowStride(g);
        using var colBuffer = dw is null ? null : Tensor.Empty([band * colStride]);
        using var gradColBuffer = dx is null ? null : Tensor.Empty([band * colStride]);
        for (int p0 = 0; p0 < pixels; p0 += band)
        {
            int rows = Math.Min(band, pixels - p0);
            float* dyBand = dy + (long)p0 * g.Cout;
            if (colBuffer is not null)
            {
                // dW += dyᵀ·col, the columns rebuilt from x rather than kept from the forward pass.
                float* col = colBuffer.DataPtr;
                Im2Col.Gather(g, x, p0, rows, col, colStride);
                for (int grp = 0; grp < g.Groups; grp++)
                    Gemm.Sgemm(true, false, cog, k, rows, 1f, dyBand + grp * cog, g.Cout, col + grp * k, colStride, p0 == 0 ? 0f : 1f, dw + (long)grp * cog * k, k);
            }
            if (gradColBuffer is not null)
            {
                // dcol = dy·W, then col2im.
                float* gradCol = gradColBuffer.DataPtr;
                for (int grp = 0; grp < g.Groups; grp++)
                    Gemm.Sgemm(false, false, rows, k, cog, 1f, dyBand + grp * cog, g.Cout, w + (long)grp * cog * k, k, 0f, gradCol + grp * k, colStride);
                Im2Col.Col2Im(g, gradCol, colStride, p0, rows, dx);
            }
        }
    }
}
