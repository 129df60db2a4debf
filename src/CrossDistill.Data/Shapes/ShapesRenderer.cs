namespace CrossDistill.Data.Shapes;

/// <summary>
/// Rasterises a <see cref="ShapeSpec"/>: the outline is anti-aliased from the signed distance
/// (coverage = the part of a one-pixel-wide filter inside the shape), the texture is averaged
/// over 3×3 points per pixel so its hard edges do not alias.
/// </summary>
public static class ShapesRenderer
{
    private const int Supersample = 3;

    /// <summary>Renders into <paramref name="image"/> (3×size×size, values in [0, 1]) and <paramref name="coverage"/> (size×size, the part of each pixel the foreground covers).</summary>
    public static void Render(in ShapeSpec spec, int size, Span<float> image, Span<float> coverage)
    {
        int plane = size * size;
        if (image.Length != 3 * plane) throw new ArgumentException($"ShapesRenderer.Render: image needs 3×{size}×{size} values, got {image.Length}.", nameof(image));
        if (coverage.Length != plane) throw new ArgumentException($"ShapesRenderer.Render: coverage needs {size}×{size} values, got {coverage.Length}.", nameof(coverage));
        float cosShape = MathF.Cos(spec.Rotation), sinShape = MathF.Sin(spec.Rotation);
        float invRadius = 1f / spec.Radius;
        float cosTex = MathF.Cos(spec.TextureRotation) / spec.TexturePeriod, sinTex = MathF.Sin(spec.TextureRotation) / spec.TexturePeriod;
        var flat = Rgb.Lerp(spec.Ink, spec.Ink2, 0.5f);
        for (int y = 0; y < size; y++)
        {
            for (int x = 0; x < size; x++)
            {
                float cover;
                if (spec.Fill == ShapeFill.TextureOnly)
                {
                    cover = 1f;
                }
                else
                {
                    float px = x + 0.5f - spec.CenterX, py = y + 0.5f - spec.CenterY;
                    float qx = cosShape * px + sinShape * py, qy = -sinShape * px + cosShape * py;
                    float distance = ShapeGeometry.Distance(spec.ShapeClass, qx * invRadius, qy * invRadius) * spec.Radius;
                    cover = Math.Clamp(0.5f - distance, 0f, 1f);
                }
                Rgb colour = spec.Background;
                if (cover > 0f)
                {
                    Rgb fill = spec.Fill == ShapeFill.Flat ? flat : Rgb.Lerp(spec.Ink, spec.Ink2, TextureAt(spec, x, y, cosTex, sinTex));
                    colour = Rgb.Lerp(spec.Background, fill, cover);
                }
                int p = y * size + x;
                coverage[p] = cover;
                image[p] = colour.R;
                image[plane + p] = colour.G;
                image[2 * plane + p] = colour.B;
            }
        }
    }

    private static float TextureAt(in ShapeSpec spec, int x, int y, float cosTex, float sinTex)
    {
        float sum = 0f;
        for (int sy = 0; sy < Supersample; sy++)
        {
            float dy = y + (sy + 0.5f) / Supersample - spec.TextureOffsetY;
            for (int sx = 0; sx < Supersample; sx++)
            {
                float dx = x + (sx + 0.5f) / Supersample - spec.TextureOffsetX;
                float u = cosTex * dx + sinTex * dy, v = -sinTex * dx + cosTex * dy;
                sum += TextureFunctions.Evaluate(spec.TextureClass, u, v, spec.TextureSeed);
            }
        }
        return sum * (1f / (Supersample * Supersample));
    }
}
