using CrossDistill.Engine;
using CrossDistill.Engine.Kernels;

namespace CrossDistill.Data.Shapes;

/// <summary>
/// The embedded <c>shapes</c> dataset: ten classes, each a shape (circle, square, …) that is
/// usually filled with its own texture family (stripes, dots, …), at a random position, size,
/// rotation and colour. Nothing is downloaded: image i of a split is a pure function of the seed,
/// the split and i, rendered once when the split is created and kept as bytes.
/// The evaluation splits re-render the test images with one cue changed, so each evaluation image
/// has a test image with the same pose and colours.
/// </summary>
public sealed class ShapesDataset : Dataset
{
    public const string DatasetName = "shapes";

    public static readonly IReadOnlyList<string> ClassNames =
        Enumerable.Range(0, ShapeGeometry.Count).Select(c => $"{ShapeGeometry.Names[c]}/{TextureFunctions.Names[c]}").ToArray();

    private readonly byte[] _pixels;
    private readonly byte[] _masks;
    private readonly int[] _labels;
    private readonly int[] _textures;

    private ShapesDataset(ShapesOptions options, ShapesSplit kind)
    {
        options.Validate();
        Options = options;
        Kind = kind;
        int count = kind == ShapesSplit.Train ? options.TrainCount : options.TestCount;
        int size = options.Size, plane = size * size;
        _pixels = new byte[(long)count * 3 * plane];
        _masks = new byte[(long)count * plane];
        _labels = new int[count];
        _textures = new int[count];
        Workers.For(count, 32, (start, end) =>
        {
            var image = new float[3 * plane];
            var coverage = new float[plane];
            for (int i = start; i < end; i++)
            {
                var spec = MakeSpec(options, kind, i);
                ShapesRenderer.Render(spec, size, image, coverage);
                PixelConvert.UnitToBytes(image, _pixels.AsSpan(i * 3 * plane, 3 * plane));
                PixelConvert.UnitToBytes(coverage, _masks.AsSpan(i * plane, plane));
                _labels[i] = spec.ShapeClass;
                _textures[i] = spec.TextureClass;
            }
        });
    }

    public static ShapesDataset Create(ShapesSplit split, ShapesOptions? options = null) => new(options ?? new ShapesOptions(), split);

    public ShapesOptions Options { get; }
    public ShapesSplit Kind { get; }

    public override string Name => DatasetName;
    public override string Split => SplitName(Kind);
    public override int Count => _labels.Length;
    public override int Channels => 3;
    public override int Height => Options.Size;
    public override int Width => Options.Size;
    public override IReadOnlyList<string> Classes => ClassNames;

    public override string? SecondaryLabelName => HasTextureLabel ? "texture" : null;
    public override IReadOnlyList<string>? SecondaryClasses => HasTextureLabel ? TextureFunctions.Names : null;

    private bool HasTextureLabel => Kind is ShapesSplit.Train or ShapesSplit.Test or ShapesSplit.CueConflict;

    public override int Label(int index)
    {
        CheckIndex(index);
        return _labels[index];
    }

    /// <summary>The class whose texture fills image <paramref name="index"/> (-1 for silhouettes, which have none).</summary>
    public override int SecondaryLabel(int index)
    {
        CheckIndex(index);
        return HasTextureLabel ? _textures[index] : -1;
    }

    public override void ReadImage(int index, Span<float> destination)
    {
        CheckIndex(index);
        CheckDestination(destination);
        PixelConvert.BytesToUnit(_pixels.AsSpan(index * ImageLength, ImageLength), destination);
    }

    /// <summary>The stored bytes of image <paramref name="index"/> (3×size×size).</summary>
    public ReadOnlySpan<byte> RawImage(int index)
    {
        CheckIndex(index);
        return _pixels.AsSpan(index * ImageLength, ImageLength);
    }

    /// <summary>
    /// The part of each pixel covered by the foreground (0 = background, 255 = fully inside the
    /// shape), size×size. In the texture-only split the texture covers everything.
    /// </summary>
    public ReadOnlySpan<byte> Mask(int index)
    {
        CheckIndex(index);
        int plane = Options.Size * Options.Size;
        return _masks.AsSpan(index * plane, plane);
    }

    /// <summary>What image <paramref name="index"/> is made of.</summary>
    public ShapeSpec Spec(int index)
    {
        CheckIndex(index);
        return MakeSpec(Options, Kind, index);
    }

    public static string SplitName(ShapesSplit split) => split switch
    {
        ShapesSplit.Train => "train",
        ShapesSplit.Test => "test",
        ShapesSplit.CueConflict => "cue-conflict",
        ShapesSplit.Silhouette => "silhouette",
        ShapesSplit.TextureOnly => "texture-only",
        _ => throw new ArgumentOutOfRangeException(nameof(split)),
    };

    public static bool TryParseSplit(string name, out ShapesSplit split)
    {
        foreach (var s in Enum.GetValues<ShapesSplit>())
        {
            if (SplitName(s) == name)
            {
                split = s;
                return true;
            }
        }
        split = default;
        return false;
    }

    /// <summary>
    /// The spec of image <paramref name="index"/> of a split. Labels cycle through the classes so
    /// every split is balanced; everything else is drawn from a generator seeded by (seed, split,
    /// index). The evaluation splits start from the test image with the same index.
    /// </summary>
    public static ShapeSpec MakeSpec(ShapesOptions options, ShapesSplit split, int index)
    {
        bool train = split == ShapesSplit.Train;
        var rng = SeedHash.Generator(options.Seed, SeedHash.Tag(train ? "shapes/train" : "shapes/test"), index);
        int label = index % ShapeGeometry.Count;
        bool ownTexture = rng.NextDouble() < options.TextureProbability;
        int otherTexture = OtherClass(label, rng);
        float size = options.Size;
        float radius = size * (float)rng.NextUniform(0.27, 0.42);
        float cx = (float)rng.NextUniform(radius, size - radius);
        float cy = (float)rng.NextUniform(radius, size - radius);
        float rotation = (float)rng.NextUniform(0, 2 * Math.PI);
        var (background, ink, ink2) = DrawColours(rng);
        float period = size * (float)rng.NextUniform(0.12, 0.20);
        float textureRotation = (float)rng.NextUniform(0, 2 * Math.PI);
        float offsetX = (float)rng.NextUniform(0, size), offsetY = (float)rng.NextUniform(0, size);
        uint textureSeed = (uint)(rng.NextUInt64() >> 32);
        var spec = new ShapeSpec(label, ownTexture ? label : otherTexture, ShapeFill.Textured, cx, cy, radius, rotation,
            background, ink, ink2, period, textureRotation, offsetX, offsetY, textureSeed);
        return split switch
        {
            ShapesSplit.Train or ShapesSplit.Test => spec,
            ShapesSplit.CueConflict => spec with { TextureClass = OtherClass(label, SeedHash.Generator(options.Seed, SeedHash.Tag("shapes/cue-conflict"), index)) },
            ShapesSplit.Silhouette => spec with { Fill = ShapeFill.Flat },
            ShapesSplit.TextureOnly => spec with { TextureClass = label, Fill = ShapeFill.TextureOnly },
            _ => throw new ArgumentOutOfRangeException(nameof(split)),
        };
    }

    private static int OtherClass(int label, Generator rng) => (label + 1 + rng.NextInt(ShapeGeometry.Count - 1)) % ShapeGeometry.Count;

    // Colour carries no class information, but the two inks must differ enough for the texture to
    // show and both must stand out from the background for the outline to show.
    private static (Rgb Background, Rgb Ink, Rgb Ink2) DrawColours(Generator rng)
    {
        (Rgb, Rgb, Rgb) last = default;
        for (int attempt = 0; attempt < 100; attempt++)
        {
            var background = RandomColour(rng);
            var ink = RandomColour(rng);
            var ink2 = RandomColour(rng);
            last = (background, ink, ink2);
            if (MathF.Abs(ink.Luminance - ink2.Luminance) >= 0.3f
                && background.DistanceTo(ink) >= 0.35f && background.DistanceTo(ink2) >= 0.35f
                && background.DistanceTo(Rgb.Lerp(ink, ink2, 0.5f)) >= 0.3f)
                return last;
        }
        return last;
    }

    private static Rgb RandomColour(Generator rng) => new(rng.NextFloat(), rng.NextFloat(), rng.NextFloat());
}
