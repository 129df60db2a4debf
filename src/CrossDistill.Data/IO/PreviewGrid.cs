namespace CrossDistill.Data.IO;

/// <summary>A grid of dataset samples, each with its label (and secondary label) written under it.</summary>
public static class PreviewGrid
{
    private const int Gap = 8;
    private static readonly (byte, byte, byte) Background = (255, 255, 255);
    private static readonly (byte, byte, byte) Ink = (20, 20, 20);
    private static readonly (byte, byte, byte) SecondaryInk = (150, 30, 30);

    /// <summary>Lays out <paramref name="indices"/> of <paramref name="dataset"/> in rows of <paramref name="columns"/>.</summary>
    public static RgbCanvas Render(Dataset dataset, IReadOnlyList<int> indices, int columns = 8, int? scale = null)
    {
        if (indices.Count == 0) throw new ArgumentException("PreviewGrid: no samples to draw.", nameof(indices));
        if (columns <= 0) throw new ArgumentException($"PreviewGrid: columns must be positive, got {columns}.", nameof(columns));
        int s = scale ?? Math.Max(1, (int)Math.Ceiling(64.0 / Math.Max(dataset.Width, dataset.Height)));
        var lines = indices.Select(i => LabelLines(dataset, i)).ToArray();
        int longest = lines.SelectMany(l => l).Max(t => t.Length);
        int cellWidth = Math.Max(dataset.Width * s, BitmapFont.MeasureWidth(new string('x', Math.Min(longest, 24))));
        int textLines = lines.Max(l => l.Length);
        int textHeight = textLines * (BitmapFont.GlyphHeight + 2);
        int cellHeight = dataset.Height * s + 2 + textHeight;
        int rows = (indices.Count + columns - 1) / columns;
        int cols = Math.Min(columns, indices.Count);
        var canvas = new RgbCanvas(Gap + cols * (cellWidth + Gap), Gap + rows * (cellHeight + Gap), Background);
        for (int k = 0; k < indices.Count; k++)
        {
            int x = Gap + k % columns * (cellWidth + Gap), y = Gap + k / columns * (cellHeight + Gap);
            using (var image = dataset.ReadImage(indices[k])) canvas.DrawImage(image, x + (cellWidth - dataset.Width * s) / 2, y, s);
            int ty = y + dataset.Height * s + 2;
            for (int line = 0; line < lines[k].Length; line++)
            {
                string text = Fit(lines[k][line], cellWidth);
                canvas.DrawText(x, ty + line * (BitmapFont.GlyphHeight + 2), text, line == 0 ? Ink : SecondaryInk);
            }
        }
        return canvas;
    }

    private static string[] LabelLines(Dataset dataset, int index)
    {
        int label = dataset.Label(index);
        var first = $"{label} {dataset.Classes[label]}";
        int secondary = dataset.SecondaryLabel(index);
        if (secondary < 0 || dataset.SecondaryClasses is not { } names) return new[] { first };
        return new[] { first, $"{dataset.SecondaryLabelName}: {names[secondary]}" };
    }

    private static string Fit(string text, int width)
    {
        int maxChars = Math.Max(1, (width + 1) / BitmapFont.Advance);
        return text.Length <= maxChars ? text : text[..maxChars];
    }
}
