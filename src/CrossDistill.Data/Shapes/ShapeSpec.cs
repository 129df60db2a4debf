namespace CrossDistill.Data.Shapes;

/// <summary>An RGB colour with channels in [0, 1].</summary>
public readonly record struct Rgb(float R, float G, float B)
{
    public float Luminance => 0.299f * R + 0.587f * G + 0.114f * B;

    public float DistanceTo(Rgb other)
    {
        float dr = R - other.R, dg = G - other.G, db = B - other.B;
        return MathF.Sqrt(dr * dr + dg * dg + db * db);
    }

    public static Rgb Lerp(Rgb a, Rgb b, float t) => new(a.R + (b.R - a.R) * t, a.G + (b.G - a.G) * t, a.B + (b.B - a.B) * t);

    public float this[int channel] => channel switch { 0 => R, 1 => G, 2 => B, _ => throw new ArgumentOutOfRangeException(nameof(channel)) };
}

/// <summary>How the shape is filled.</summary>
public enum ShapeFill
{
    /// <summary>The shape filled with its texture on a flat background (train, test, cue-conflict).</summary>
    Textured,

    /// <summary>The shape in one flat colour (the texture's mean colour): shape cue only.</summary>
    Flat,

    /// <summary>The texture over the whole image and no shape: texture cue only.</summary>
    TextureOnly,
}

/// <summary>
/// Everything that determines one image of the shapes data: which shape and which texture, the
/// pose (in pixels) and the colours. The renderer is a pure function of a spec and the image
/// size, so a spec can be re-rendered with one thing changed (another texture, a flat fill) to
/// check what an image is made of.
/// </summary>
public readonly record struct ShapeSpec(
    int ShapeClass,
    int TextureClass,
    ShapeFill Fill,
    float CenterX,
    float CenterY,
    float Radius,
    float Rotation,
    Rgb Background,
    Rgb Ink,
    Rgb Ink2,
    float TexturePeriod,
    float TextureRotation,
    float TextureOffsetX,
    float TextureOffsetY,
    uint TextureSeed);
