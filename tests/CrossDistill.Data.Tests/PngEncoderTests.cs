using System.Text;
using CrossDistill.Data.IO;
using CrossDistill.Data.Tests.Support;

namespace CrossDistill.Data.Tests;

public class PngEncoderTests
{
    [Fact]
    public void Crc32_MatchesTheStandardCheckValue()
    {
        Assert.Equal(0xCBF43926u, Crc32.Compute(Encoding.ASCII.GetBytes("123456789")));
        Assert.Equal(0u, Crc32.Compute(ReadOnlySpan<byte>.Empty));
        var data = Encoding.ASCII.GetBytes("IHDR and more bytes");
        Assert.Equal(Crc32.Compute(data), Crc32.Append(Crc32.Compute(data.AsSpan(0, 4)), data.AsSpan(4)));
    }

    [Theory]
    [InlineData(1, 1, 1)]
    [InlineData(1, 1, 3)]
    [InlineData(7, 3, 1)]
    [InlineData(5, 9, 3)]
    [InlineData(64, 33, 3)]
    public void RandomPixels_DecodeBackExactly(int width, int height, int channels)
    {
        var pixels = new byte[width * height * channels];
        new Random(width * 100 + height + channels).NextBytes(pixels);
        var decoded = PngTestDecoder.Decode(PngEncoder.Encode(pixels, width, height, channels));
        Assert.Equal((width, height, channels), (decoded.Width, decoded.Height, decoded.Channels));
        Assert.Equal(pixels, decoded.Pixels);
        Assert.Equal(new[] { "IHDR", "IDAT", "IEND" }, decoded.ChunkTypes);
    }

    [Fact]
    public void SmoothImage_UsesPredictiveFiltersAndStillDecodesExactly()
    {
        int w = 40, h = 30;
        var pixels = new byte[w * h * 3];
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
            {
                pixels[(y * w + x) * 3] = (byte)(x * 6);
                pixels[(y * w + x) * 3 + 1] = (byte)(y * 8);
                pixels[(y * w + x) * 3 + 2] = (byte)(x * 3 + y * 4);
            }
        var png = PngEncoder.Encode(pixels, w, h, 3);
        var decoded = PngTestDecoder.Decode(png);
        Assert.Equal(pixels, decoded.Pixels);
        Assert.Contains(decoded.Filters, f => f != 0);
        Assert.True(png.Length < pixels.Length / 4, $"a gradient should compress well, got {png.Length} bytes for {pixels.Length}");
    }

    [Fact]
    public void BadArguments_Throw()
    {
        Assert.Throws<ArgumentException>(() => PngEncoder.Encode(new byte[12], 2, 2, 2));
        Assert.Throws<ArgumentException>(() => PngEncoder.Encode(new byte[11], 2, 2, 3));
        Assert.Throws<ArgumentException>(() => PngEncoder.Encode(Array.Empty<byte>(), 0, 2, 1));
    }

    [Fact]
    public void Write_CreatesTheFolderAndTheFile()
    {
        using var temp = new TempFolder();
        string path = temp.File("nested", "grey.png");
        var pixels = Enumerable.Range(0, 12).Select(i => (byte)(i * 20)).ToArray();
        PngEncoder.Write(path, pixels, 4, 3, 1);
        var decoded = PngTestDecoder.Decode(File.ReadAllBytes(path));
        Assert.Equal(pixels, decoded.Pixels);
        Assert.Equal(1, decoded.Channels);
    }
}

public class BitmapFontTests
{
    [Fact]
    public void EveryPrintableGlyphHasInk_AndDistinctLettersDiffer()
    {
        const string chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_/.,:+=()<>%#*!?'";
        var seen = new HashSet<string>();
        foreach (char ch in chars)
        {
            Assert.True(BitmapFont.Supports(ch), $"'{ch}'");
            var rows = BitmapFont.Glyph(ch).ToArray();
            Assert.Equal(BitmapFont.GlyphHeight, rows.Length);
            Assert.Contains(rows, r => r != 0);
            Assert.All(rows, r => Assert.True(r < 1 << BitmapFont.GlyphWidth));
            Assert.True(seen.Add(string.Join(",", rows)), $"'{ch}' looks like another glyph");
        }
        Assert.Equal(BitmapFont.Glyph('a').ToArray(), BitmapFont.Glyph('A').ToArray());
        Assert.Equal(BitmapFont.Glyph('?').ToArray(), BitmapFont.Glyph('\u00e9').ToArray());
        Assert.All(BitmapFont.Glyph(' ').ToArray(), r => Assert.Equal(0, r));
    }

    [Fact]
    public void DrawText_PaintsTheGlyphPixels()
    {
        var canvas = new RgbCanvas(20, 10, (255, 255, 255));
        canvas.DrawText(1, 1, "L1", (0, 0, 0));
        // 'L' is a vertical bar in column 0 and a full bottom row.
        for (int y = 0; y < 7; y++) Assert.Equal((byte)0, canvas[1, 1 + y].R);
        for (int x = 0; x < 5; x++) Assert.Equal((byte)0, canvas[1 + x, 7].G);
        Assert.Equal((byte)255, canvas[2, 1].B);
        // The second character starts one advance later; '1' has ink in its middle column.
        Assert.Equal((byte)0, canvas[1 + BitmapFont.Advance + 2, 1].R);
        Assert.Equal(2 * BitmapFont.Advance - 1, BitmapFont.MeasureWidth("L1"));
        canvas.DrawText(15, 5, "WWW", (9, 9, 9));
        Assert.Equal((9, 9, 9), canvas[15, 5]);
    }
}
