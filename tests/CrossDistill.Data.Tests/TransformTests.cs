using CrossDistill.Data.Tests.Support;
using CrossDistill.Data.Transforms;
using CrossDistill.Engine.IO;

namespace CrossDistill.Data.Tests;

public class TransformTests
{
    private static Image Ramp(int channels, int height, int width)
    {
        var image = new Image(channels, height, width);
        for (int c = 0; c < channels; c++)
            for (int y = 0; y < height; y++)
                for (int x = 0; x < width; x++)
                    image[c, y, x] = c * 100 + y * 10 + x;
        return image;
    }

    [Fact]
    public void RandomCrop_WithConstantPadding_CutsAWindowOfThePaddedImage()
    {
        var crop = RandomCrop.Square(4, padding: 2, fill: -1f);
        var positions = new HashSet<(float, float)>();
        for (ulong seed = 0; seed < 200; seed++)
        {
            using var result = crop.Apply(Ramp(2, 4, 4), new Generator(seed));
            Assert.Equal((2, 4, 4), (result.Channels, result.Height, result.Width));
            // Find the window offset from any pixel that came from the image.
            int top = int.MinValue, left = int.MinValue;
            for (int y = 0; y < 4 && top == int.MinValue; y++)
                for (int x = 0; x < 4; x++)
                    if (result[0, y, x] >= 0)
                    {
                        top = (int)result[0, y, x] / 10 - y;
                        left = (int)result[0, y, x] % 10 - x;
                        break;
                    }
            Assert.NotEqual(int.MinValue, top);
            positions.Add((top, left));
            for (int c = 0; c < 2; c++)
                for (int y = 0; y < 4; y++)
                    for (int x = 0; x < 4; x++)
                    {
                        int sy = top + y, sx = left + x;
                        float expected = sy is >= 0 and < 4 && sx is >= 0 and < 4 ? c * 100 + sy * 10 + sx : -1f;
                        Assert.Equal(expected, result[c, y, x]);
                    }
        }
        // Offsets run from -2 to 2 in both directions: all 25 appear in 200 draws (apart from the all-padding ones, which cannot be located).
        Assert.True(positions.Count >= 20, $"{positions.Count} distinct crop positions");
        Assert.All(positions, p => Assert.InRange(p.Item1, -2, 2));
    }

    [Fact]
    public void RandomCrop_ReflectAndEdgePadding_FollowNumpy()
    {
        // Row 0..3 of a 1×4×4 ramp, window starting 2 above and 2 left of the image.
        var reflect = new RandomCrop(3, 3, padding: 2, mode: PaddingMode.Reflect).Crop(Ramp(1, 4, 4), -2, -2);
        Assert.Equal(new float[] { 22, 21, 20, 12, 11, 10, 2, 1, 0 }, reflect.Pixels.ToArray());
        var edge = new RandomCrop(3, 3, padding: 2, mode: PaddingMode.Edge).Crop(Ramp(1, 4, 4), 2, 2);
        Assert.Equal(new float[] { 22, 23, 23, 32, 33, 33, 32, 33, 33 }, edge.Pixels.ToArray());
    }

    [Fact]
    public void RandomCrop_BadSizes_Throw()
    {
        var e = Assert.Throws<ArgumentException>(() => RandomCrop.Square(10, padding: 2).Apply(Ramp(1, 4, 4), new Generator(0)));
        Assert.Contains("10×10", e.Message);
        Assert.Throws<ArgumentException>(() => new RandomCrop(3, 3, padding: 4, mode: PaddingMode.Reflect).Apply(Ramp(1, 4, 4), new Generator(0)));
        Assert.Throws<ArgumentException>(() => RandomCrop.Square(3, padding: -1));
        using var same = RandomCrop.Square(4).Apply(Ramp(1, 4, 4), new Generator(0));
        Assert.Equal(Ramp(1, 4, 4).Pixels.ToArray(), same.Pixels.ToArray());
    }

    [Fact]
    public void HorizontalFlip_MirrorsRows_WithItsProbability()
    {
        using var flipped = new RandomHorizontalFlip(1.0).Apply(Ramp(2, 3, 5), new Generator(0));
        for (int c = 0; c < 2; c++)
            for (int y = 0; y < 3; y++)
                for (int x = 0; x < 5; x++)
                    Assert.Equal(c * 100 + y * 10 + (4 - x), flipped[c, y, x]);
        using var kept = new RandomHorizontalFlip(0.0).Apply(Ramp(1, 2, 3), new Generator(0));
        Assert.Equal(Ramp(1, 2, 3).Pixels.ToArray(), kept.Pixels.ToArray());
        int flips = 0;
        for (ulong s = 0; s < 1000; s++)
        {
            using var r = new RandomHorizontalFlip().Apply(Ramp(1, 1, 2), new Generator(s));
            if (r[0, 0, 0] == 1) flips++;
        }
        Assert.InRange(flips, 440, 560);
    }

    public static IEnumerable<object[]> ResizeCases() =>
        new[] { "down_odd", "up_odd", "mixed", "down_big", "up_cifar", "to_one", "same" }.SelectMany(n => new[] { new object[] { n, false }, new object[] { n, true } });

    [Theory]
    [MemberData(nameof(ResizeCases))]
    public void Resize_MatchesPyTorchInterpolate(string name, bool antialias)
    {
        var fixture = Safetensors.Load(Repo.Fixtures("data", "resize.safetensors"));
        var input = fixture[$"{name}.in"];
        var expected = fixture[$"{name}.aa{(antialias ? 1 : 0)}"];
        using var image = Image.FromPixels(input.Shape[0], input.Shape[1], input.Shape[2], input.ToArray());
        using var result = new Resize(expected.Shape[1], expected.Shape[2], antialias).Apply(image.Clone(), new Generator(0));
        Assert.Equal(expected.Shape, new[] { result.Channels, result.Height, result.Width });
        var want = expected.ToArray();
        var got = result.Pixels.ToArray();
        for (int i = 0; i < want.Length; i++)
            Assert.True(Math.Abs(want[i] - got[i]) <= 1e-5f + 1e-5f * Math.Abs(want[i]), $"{name} aa={antialias}: element {i} is {got[i]}, PyTorch gives {want[i]}");
    }

    [Fact]
    public void Resize_ShorterSide_KeepsTheAspectRatio()
    {
        var resize = new Resize(16);
        Assert.Equal((16, 32), resize.OutputSize(10, 20));
        Assert.Equal((24, 16), resize.OutputSize(30, 20));
        using var result = resize.Apply(Ramp(1, 8, 12), new Generator(0));
        Assert.Equal((16, 24), (result.Height, result.Width));
    }

    [Fact]
    public void RandomResizedCrop_WindowsStayInsideAndFollowScaleAndRatio()
    {
        var rrc = new RandomResizedCrop(12, 10, scale: (0.25, 0.5), ratio: (0.5, 2.0));
        for (ulong seed = 0; seed < 300; seed++)
        {
            var (top, left, h, w) = rrc.SampleWindow(40, 30, new Generator(seed));
            Assert.True(top >= 0 && left >= 0 && top + h <= 40 && left + w <= 30, $"window ({top}, {left}, {h}×{w})");
            double area = (double)h * w / (40 * 30);
            Assert.InRange(area, 0.2, 0.56);
            Assert.InRange((double)w / h, 0.4, 2.5);
        }
        using var result = rrc.Apply(Ramp(3, 40, 30), new Generator(1));
        Assert.Equal((3, 12, 10), (result.Channels, result.Height, result.Width));
    }

    [Fact]
    public void RandomResizedCrop_FallsBackToACentreCrop()
    {
        // No window of aspect ratio 4 and 90 % of the area fits an image 10 wide and 20 tall: the
        // fallback keeps the full width and a height of round(10 / 4) = 2 (rounding half to even, as Python).
        var rrc = new RandomResizedCrop(8, 8, scale: (0.9, 1.0), ratio: (4.0, 4.0));
        Assert.Equal((9, 0, 2, 10), rrc.SampleWindow(20, 10, new Generator(0)));
        var tall = new RandomResizedCrop(8, 8, scale: (0.9, 1.0), ratio: (0.1, 0.1));
        Assert.Equal((0, 4, 10, 1), tall.SampleWindow(10, 10, new Generator(0)));
        Assert.Throws<ArgumentException>(() => new RandomResizedCrop(8, 8, scale: (0.5, 0.2)));
    }

    [Fact]
    public void Normalize_UsesPerChannelStatistics_AndChecksChannels()
    {
        using var image = new Normalize(new[] { 1f, 2f }, new[] { 2f, 4f }).Apply(Image.FromPixels(2, 1, 2, new float[] { 3, 5, 2, 10 }), new Generator(0));
        Assert.Equal(new float[] { 1, 2, 0, 2 }, image.Pixels.ToArray());
        var e = Assert.Throws<ArgumentException>(() => new Normalize(new[] { 0.5f }, new[] { 0.5f }).Apply(Ramp(3, 2, 2), new Generator(0)));
        Assert.Contains("3×2×2", e.Message);
        Assert.Throws<ArgumentException>(() => new Normalize(new[] { 0.5f }, new[] { 0f }));
        Assert.Throws<ArgumentException>(() => new Normalize(new[] { 0.5f, 0.5f }, new[] { 1f }));
    }

    [Fact]
    public void GreyToRgb_RepeatsTheChannel()
    {
        using var rgb = new GreyToRgb().Apply(Ramp(1, 2, 3), new Generator(0));
        Assert.Equal(3, rgb.Channels);
        for (int c = 0; c < 3; c++) Assert.Equal(Ramp(1, 2, 3).Pixels.ToArray(), rgb.Plane(c).ToArray());
        var already = Ramp(3, 2, 2);
        Assert.Same(already, new GreyToRgb().Apply(already, new Generator(0)));
        Assert.Throws<ArgumentException>(() => new GreyToRgb().Apply(Ramp(2, 2, 2), new Generator(0)));
    }

    [Fact]
    public void CenterCrop_AndCompose()
    {
        // torchvision: top = round(1.5) = 2 (half to even), left = round(1.0) = 1.
        using var centre = new CenterCrop(2, 3).Apply(Ramp(1, 5, 5), new Generator(0));
        Assert.Equal(new float[] { 21, 22, 23, 31, 32, 33 }, centre.Pixels.ToArray());
        var pipeline = new Compose(new GreyToRgb(), new RandomHorizontalFlip(1.0), new Normalize(new[] { 0f, 0f, 0f }, new[] { 1f, 1f, 2f }));
        using var result = pipeline.Apply(Ramp(1, 1, 3), new Generator(0));
        Assert.Equal(new float[] { 2, 1, 0, 2, 1, 0, 1, 0.5f, 0 }, result.Pixels.ToArray());
    }

    [Fact]
    public void Transforms_AreDeterminedByTheGenerator()
    {
        var pipeline = new Compose(new RandomResizedCrop(16, 16), new RandomHorizontalFlip(), RandomCrop.Square(16, padding: 2), new PatchShuffleTransform(4, 4), new GaussianNoiseTransform(0.05));
        using var a = pipeline.Apply(Ramp(3, 20, 24), new Generator(42));
        using var b = pipeline.Apply(Ramp(3, 20, 24), new Generator(42));
        using var c = pipeline.Apply(Ramp(3, 20, 24), new Generator(43));
        Assert.Equal(a.Pixels.ToArray(), b.Pixels.ToArray());
        Assert.NotEqual(a.Pixels.ToArray(), c.Pixels.ToArray());
    }
}
