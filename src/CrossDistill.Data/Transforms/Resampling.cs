namespace CrossDistill.Data.Transforms;

/// <summary>
/// Separable bilinear resampling with PyTorch's conventions (F.interpolate, mode="bilinear",
/// align_corners=False): pixel centres at half-integers, with or without the antialiasing
/// filter that widens the triangle kernel when shrinking (antialias=True, as torchvision's
/// Resize and PIL do).
/// </summary>
public static class Resampling
{
    /// <summary>For each output position, the first input index and the weights of the inputs from there.</summary>
    internal readonly record struct Taps(int[] Start, int[] Count, float[] Weights, int Width);

    internal static Taps Compute(int inputSize, int outputSize, bool antialias)
    {
        double scale = (double)inputSize / outputSize;
        if (antialias && scale > 1) return ComputeAntialiased(inputSize, outputSize, scale);
        var start = new int[outputSize];
        var count = new int[outputSize];
        var weights = new float[outputSize * 2];
        for (int i = 0; i < outputSize; i++)
        {
            // PyTorch computes the source index in float32 (area_pixel_compute_source_index).
            float real = (float)scale * (i + 0.5f) - 0.5f;
            if (real < 0) real = 0;
            int x0 = (int)real;
            float lambda = real - x0;
            if (x0 >= inputSize - 1)
            {
                x0 = inputSize - 1;
                lambda = 0;
            }
            start[i] = x0;
            count[i] = lambda == 0 ? 1 : 2;
            weights[2 * i] = 1 - lambda;
            weights[2 * i + 1] = lambda;
        }
        return new Taps(start, count, weights, 2);
    }

    // ATen's _compute_indices_weights_aa: a triangle filter stretched by the scale, weights normalised over the valid taps.
    private static Taps ComputeAntialiased(int inputSize, int outputSize, double scale)
    {
        double support = scale;
        int width = (int)Math.Ceiling(support) * 2 + 1;
        var start = new int[outputSize];
        var count = new int[outputSize];
        var weights = new float[outputSize * width];
        double invScale = 1.0 / scale;
        for (int i = 0; i < outputSize; i++)
        {
            double center = scale * (i + 0.5);
            int xmin = Math.Max((int)(center - support + 0.5), 0);
            int xsize = Math.Min((int)(center + support + 0.5), inputSize) - xmin;
            double total = 0;
            var w = new double[xsize];
            for (int j = 0; j < xsize; j++)
            {
                double x = Math.Abs((j + xmin - center + 0.5) * invScale);
                w[j] = x < 1 ? 1 - x : 0;
                total += w[j];
            }
            start[i] = xmin;
            count[i] = xsize;
            for (int j = 0; j < xsize; j++) weights[i * width + j] = (float)(total > 0 ? w[j] / total : 0);
        }
        return new Taps(start, count, weights, width);
    }

    /// <summary>Resizes the rectangle (top, left, height, width) of <paramref name="source"/> to <paramref name="outHeight"/>×<paramref name="outWidth"/>.</summary>
    public static Image ResizeRegion(Image source, int top, int left, int height, int width, int outHeight, int outWidth, bool antialias)
    {
        if (height <= 0 || width <= 0 || top < 0 || left < 0 || top + height > source.Height || left + width > source.Width)
            throw new ArgumentException($"Resize: region ({top}, {left}, {height}×{width}) is not inside the {source.Height}×{source.Width} image.");
        if (outHeight <= 0 || outWidth <= 0) throw new ArgumentException($"Resize: output size must be positive, got {outHeight}×{outWidth}.");
        var horizontal = Compute(width, outWidth, antialias);
        var vertical = Compute(height, outHeight, antialias);
        int channels = source.Channels;
        var result = new Image(channels, outHeight, outWidth);
        var rows = new float[height * outWidth];
        for (int c = 0; c < channels; c++)
        {
            var plane = source.Plane(c);
            for (int y = 0; y < height; y++)
            {
                var inRow = plane.Slice((top + y) * source.Width + left, width);
                var outRow = rows.AsSpan(y * outWidth, outWidth);
                for (int x = 0; x < outWidth; x++)
                {
                    int s = horizontal.Start[x], n = horizontal.Count[x], w0 = x * horizontal.Width;
                    float sum = 0;
                    for (int k = 0; k < n; k++) sum += horizontal.Weights[w0 + k] * inRow[s + k];
                    outRow[x] = sum;
                }
            }
            var outPlane = result.Plane(c);
            for (int y = 0; y < outHeight; y++)
            {
                int s = vertical.Start[y], n = vertical.Count[y], w0 = y * vertical.Width;
                var outRow = outPlane.Slice(y * outWidth, outWidth);
                outRow.Clear();
                for (int k = 0; k < n; k++)
                {
                    float w = vertical.Weights[w0 + k];
                    var inRow = rows.AsSpan((s + k) * outWidth, outWidth);
                    for (int x = 0; x < outWidth; x++) outRow[x] += w * inRow[x];
                }
            }
        }
        return result;
    }
}
