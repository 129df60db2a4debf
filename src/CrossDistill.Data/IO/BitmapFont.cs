namespace CrossDistill.Data.IO;

/// <summary>
/// A 5×7 pixel font (upper-case letters, digits and common punctuation) for labelling preview
/// grids and report figures without a font library. Lower-case letters draw as upper-case;
/// anything else draws as '?'.
/// </summary>
public static class BitmapFont
{
    public const int GlyphWidth = 5;
    public const int GlyphHeight = 7;

    /// <summary>Horizontal distance between the starts of two characters, in font pixels.</summary>
    public const int Advance = GlyphWidth + 1;

    private static readonly Dictionary<char, byte[]> Glyphs = Build();

    private static Dictionary<char, byte[]> Build()
    {
        var rows = new Dictionary<char, string>
        {
            ['A'] = "01110 10001 10001 11111 10001 10001 10001",
            ['B'] = "11110 10001 10001 11110 10001 10001 11110",
            ['C'] = "01110 10001 10000 10000 10000 10001 01110",
            ['D'] = "11100 10010 10001 10001 10001 10010 11100",
            ['E'] = "11111 10000 10000 11110 10000 10000 11111",
            ['F'] = "11111 10000 10000 11110 10000 10000 10000",
            ['G'] = "01110 10001 10000 10111 10001 10001 01111",
            ['H'] = "10001 10001 10001 11111 10001 10001 10001",
            ['I'] = "01110 00100 00100 00100 00100 00100 01110",
            ['J'] = "00111 00010 00010 00010 00010 10010 01100",
            ['K'] = "10001 10010 10100 11000 10100 10010 10001",
            ['L'] = "10000 10000 10000 10000 10000 10000 11111",
            ['M'] = "10001 11011 10101 10101 10001 10001 10001",
            ['N'] = "10001 10001 11001 10101 10011 10001 10001",
            ['O'] = "01110 10001 10001 10001 10001 10001 01110",
            ['P'] = "11110 10001 10001 11110 10000 10000 10000",
            ['Q'] = "01110 10001 10001 10001 10101 10010 01101",
            ['R'] = "11110 10001 10001 11110 10100 10010 10001",
            ['S'] = "01111 10000 10000 01110 00001 00001 11110",
            ['T'] = "11111 00100 00100 00100 00100 00100 00100",
            ['U'] = "10001 10001 10001 10001 10001 10001 01110",
            ['V'] = "10001 10001 10001 10001 10001 01010 00100",
            ['W'] = "10001 10001 10001 10101 10101 10101 01010",
            ['X'] = "10001 10001 01010 00100 01010 10001 10001",
            ['Y'] = "10001 10001 10001 01010 00100 00100 00100",
            ['Z'] = "11111 00001 00010 00100 01000 10000 11111",
            ['0'] = "01110 10001 10011 10101 11001 10001 01110",
            ['1'] = "00100 01100 00100 00100 00100 00100 01110",
            ['2'] = "01110 10001 00001 00010 00100 01000 11111",
            ['3'] = "11111 00010 00100 00010 00001 10001 01110",
            ['4'] = "00010 00110 01010 10010 11111 00010 00010",
            ['5'] = "11111 10000 11110 00001 00001 10001 01110",
            ['6'] = "00110 01000 10000 11110 10001 10001 01110",
            ['7'] = "11111 00001 00010 00100 01000 01000 01000",
            ['8'] = "01110 10001 10001 01110 10001 10001 01110",
            ['9'] = "01110 10001 10001 01111 00001 00010 01100",
            [' '] = "00000 00000 00000 00000 00000 00000 00000",
            ['-'] = "00000 00000 00000 01110 00000 00000 00000",
            ['_'] = "00000 00000 00000 00000 00000 00000 11111",
            ['/'] = "00001 00010 00010 00100 01000 01000 10000",
            ['.'] = "00000 00000 00000 00000 00000 01100 01100",
            [','] = "00000 00000 00000 00000 01100 00100 01000",
            [':'] = "00000 01100 01100 00000 01100 01100 00000",
            ['+'] = "00000 00100 00100 11111 00100 00100 00000",
            ['='] = "00000 00000 11111 00000 11111 00000 00000",
            ['('] = "00010 00100 01000 01000 01000 00100 00010",
            [')'] = "01000 00100 00010 00010 00010 00100 01000",
            ['<'] = "00010 00100 01000 10000 01000 00100 00010",
            ['>'] = "01000 00100 00010 00001 00010 00100 01000",
            ['%'] = "11000 11001 00010 00100 01000 10011 00011",
            ['#'] = "01010 01010 11111 01010 11111 01010 01010",
            ['*'] = "00000 00100 10101 01110 10101 00100 00000",
            ['!'] = "00100 00100 00100 00100 00100 00000 00100",
            ['?'] = "01110 10001 00001 00010 00100 00000 00100",
            ['\''] = "01100 00100 01000 00000 00000 00000 00000",
        };
        var glyphs = new Dictionary<char, byte[]>();
        foreach (var (ch, text) in rows)
        {
            var parts = text.Split(' ');
            var bits = new byte[GlyphHeight];
            for (int r = 0; r < GlyphHeight; r++) bits[r] = Convert.ToByte(parts[r], 2);
            glyphs[ch] = bits;
        }
        return glyphs;
    }

    /// <summary>The 7 rows of a character, bit 4 the leftmost pixel.</summary>
    public static ReadOnlySpan<byte> Glyph(char ch)
    {
        ch = char.ToUpperInvariant(ch);
        return Glyphs.TryGetValue(ch, out var bits) ? bits : Glyphs['?'];
    }

    /// <summary>Whether the font has a glyph of its own for <paramref name="ch"/> (upper- or lower-case).</summary>
    public static bool Supports(char ch) => Glyphs.ContainsKey(char.ToUpperInvariant(ch));

    /// <summary>Width in pixels of <paramref name="text"/> drawn at <paramref name="scale"/>.</summary>
    public static int MeasureWidth(string text, int scale = 1) => text.Length == 0 ? 0 : (text.Length * Advance - 1) * scale;
}
