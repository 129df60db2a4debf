namespace CrossDistill.Data.IO;

/// <summary>An 8-bit RGB picture to compose figures on (image grids, labels) and save as PNG.</summary>
public sealed class RgbCanvas
{
    public RgbCanvas(int width, int height, (byte R, byte G, byte B) background = default)
    {
        if (width <= 0 || height <= 0) throw new ArgumentException($"RgbCanvas: size must be positive, got {width}×{height}.");
        Width = width;
        Height = height;
        Pixels = new byte[checked(width * height * 3)];
        FillRectangle(0, 0, width, height, background);
    }

    public int Width { get; }
    public int Height { get; }

    /// <summary>Rows top to bottom, R, G, B per pixel.</summary>
    public byte[] Pixels { get; }

    public (byte R, byte G, byte B) this[int x, int y]
    {
        get
        {
            int at = (y * Width + x) * 3;
            return (Pixels[at], Pixels[at + 1], Pixels[at + 2]);
        }
    }

    public void SetPixel(int x, int y, (byte R, byte G, byte B) colour)
    {
        if ((uint)x >= (uint)Width || (uint)y >= (uint)Height) return;
        int at = (y * Width + x) * 3;
        Pixels[at] = colour.R;
        Pixels[at + 1] = colour.G;
        Pixels[at + 2] = colour.B;
    }

    public void FillRectangle(int x, int y, int width, int height, (byte R, byte G, byte B) colour)
    {
        for (int yy = Math.Max(y, 0); yy < Math.Min(y + height, Height); yy++)
            for (int xx = Math.Max(x, 0); xx < Math.Min(x + width, Width); xx++)
                SetPixel(xx, yy, colour);
    }

    /// <summary>
    /// Draws a C×H×W image with values in [0, 1] (clamped), each pixel as a
    /// <paramref name="scale"/>×<paramref name="scale"/> block. One channel draws as grey.
    /// </summary>
    public void DrawImage(Image image, int x, int y, int scale = 1)
    {
        if (image.Channels is not (1 or 3)) throw new ArgumentException($"RgbCanvas.DrawImage: needs 1 or 3 channels, got {image.Channels}.");
        bool grey = image.Channels == 1;
        for (int iy = 0; iy < image.Height; iy++)
        {
            for (int ix = 0; ix < image.Width; ix++)
            {
                byte r = PixelConvert.UnitToByte(image[0, iy, ix]);
                byte g = grey ? r : PixelConvert.UnitToByte(image[1, iy, ix]);
                byte b = grey ? r : PixelConvert.UnitToByte(image[2, iy, ix]);
                FillRectangle(x + ix * scale, y + iy * scale, scale, scale, (r, g, b));
            }
        }
    }

    /// <summary>Draws <paramref name="text"/> in the <see cref="BitmapFont"/> with its top-left corner at (x, y).</summary>
    public void DrawText(int x, int y, string text, (byte R, byte G, byte B) colour, int scale = 1)
    {
        for (int i = 0; i < text.Length; i++)
        {
            var glyph = BitmapFont.Glyph(text[i]);
            int left = x + i * BitmapFont.Advance * scale;
            for (int row = 0; row < BitmapFont.GlyphHeight; row++)
                for (int col = 0; col < BitmapFont.GlyphWidth; col++)
                    if ((glyph[row] >> (BitmapFont.GlyphWidth - 1 - col) & 1) != 0)
                        FillRectangle(left + col * scale, y + row * scale, scale, scale, colour);
        }
    }

    public byte[] EncodePng() => PngEncoder.Encode(Pixels, Width, Height, 3);

    public void SavePng(string path) => PngEncoder.Write(path, Pixels, Width, Height, 3);
}
