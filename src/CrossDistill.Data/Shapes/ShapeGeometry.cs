namespace CrossDistill.Data.Shapes;

/// <summary>
/// Signed distances to the ten class shapes, in a frame where the shape's radius is about 1
/// (negative inside). Distances only need to be exact near the outline: they set the
/// anti-aliased coverage of the pixels the outline crosses.
/// </summary>
public static class ShapeGeometry
{
    public static readonly IReadOnlyList<string> Names = new[]
    {
        "circle", "square", "triangle", "star", "cross", "ring", "crescent", "heart", "arrow", "semicircle",
    };

    public const int Count = 10;

    private static readonly float[] Triangle = RegularPolygon(3, 1f, MathF.PI / 2);
    private static readonly float[] Star = StarPolygon(5, 1f, 0.45f);
    private static readonly float[] Arrow =
    {
        -0.95f, -0.25f, 0.1f, -0.25f, 0.1f, -0.62f, 1f, 0f, 0.1f, 0.62f, 0.1f, 0.25f, -0.95f, 0.25f,
    };

    public static float Distance(int shape, float x, float y) => shape switch
    {
        0 => Length(x, y) - 0.85f,
        1 => Box(x, y, 0.72f, 0.72f),
        2 => Polygon(Triangle, x, y + 0.25f),
        3 => Polygon(Star, x, y),
        4 => MathF.Min(Box(x, y, 0.95f, 0.3f), Box(x, y, 0.3f, 0.95f)),
        5 => MathF.Abs(Length(x, y) - 0.7f) - 0.24f,
        6 => Crescent(x + 0.3f, y),
        7 => Heart(x, y),
        8 => Polygon(Arrow, x, y),
        9 => MathF.Max(Length(x, y + 0.45f) - 1f, -(y + 0.45f)),
        _ => throw new ArgumentOutOfRangeException(nameof(shape), $"Shape class {shape} is not in 0..{Count - 1}."),
    };

    private static float Length(float x, float y) => MathF.Sqrt(x * x + y * y);

    private static float Box(float x, float y, float halfWidth, float halfHeight)
    {
        float dx = MathF.Abs(x) - halfWidth, dy = MathF.Abs(y) - halfHeight;
        float outside = Length(MathF.Max(dx, 0), MathF.Max(dy, 0));
        return outside + MathF.Min(MathF.Max(dx, dy), 0);
    }

    // A disc with an offset disc cut out of it.
    private static float Crescent(float x, float y) => MathF.Max(Length(x, y) - 0.9f, -(Length(x - 0.5f, y) - 0.75f));

    // Inigo Quilez's exact heart distance, scaled so the heart spans about [-1, 1].
    private static float Heart(float x, float y)
    {
        const float scale = 0.6f;
        float px = MathF.Abs(x * scale), py = y * scale + 0.55f;
        float d;
        if (px + py > 1f)
        {
            d = Length(px - 0.25f, py - 0.75f) - MathF.Sqrt(2f) / 4f;
        }
        else
        {
            float a = (px * px) + (py - 1f) * (py - 1f);
            float m = 0.5f * MathF.Max(px + py, 0f);
            float b = (px - m) * (px - m) + (py - m) * (py - m);
            d = MathF.Sqrt(MathF.Min(a, b)) * MathF.Sign(px - py);
        }
        return d / scale;
    }

    // Signed distance to a closed polygon given as x0, y0, x1, y1, …; the sign comes from the crossing number.
    private static float Polygon(float[] v, float x, float y)
    {
        int n = v.Length / 2;
        float d = (x - v[0]) * (x - v[0]) + (y - v[1]) * (y - v[1]);
        float s = 1f;
        for (int i = 0, j = n - 1; i < n; j = i, i++)
        {
            float vix = v[2 * i], viy = v[2 * i + 1], vjx = v[2 * j], vjy = v[2 * j + 1];
            float ex = vjx - vix, ey = vjy - viy, wx = x - vix, wy = y - viy;
            float t = Math.Clamp((wx * ex + wy * ey) / (ex * ex + ey * ey), 0f, 1f);
            float bx = wx - ex * t, by = wy - ey * t;
            d = MathF.Min(d, bx * bx + by * by);
            bool c1 = y >= viy, c2 = y < vjy, c3 = ex * wy > ey * wx;
            if ((c1 && c2 && c3) || (!c1 && !c2 && !c3)) s = -s;
        }
        return s * MathF.Sqrt(d);
    }

    private static float[] RegularPolygon(int sides, float radius, float startAngle)
    {
        var v = new float[2 * sides];
        for (int i = 0; i < sides; i++)
        {
            float a = startAngle + 2 * MathF.PI * i / sides;
            v[2 * i] = radius * MathF.Cos(a);
            v[2 * i + 1] = -radius * MathF.Sin(a);
        }
        return v;
    }

    private static float[] StarPolygon(int points, float outer, float inner)
    {
        var v = new float[4 * points];
        for (int i = 0; i < 2 * points; i++)
        {
            float a = MathF.PI / 2 + MathF.PI * i / points;
            float r = i % 2 == 0 ? outer : inner;
            v[2 * i] = r * MathF.Cos(a);
            v[2 * i + 1] = -r * MathF.Sin(a);
        }
        return v;
    }
}
