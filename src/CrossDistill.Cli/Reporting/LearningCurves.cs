using System.Globalization;
using CrossDistill.Data.IO;

namespace CrossDistill.Cli.Reporting;

/// <summary>A small line chart of per-epoch values (accuracy in [0, 1]) for several runs, as a PNG.</summary>
public static class LearningCurves
{
    private static readonly (byte, byte, byte)[] Palette =
    {
        (90, 90, 90), (31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189), (140, 86, 75),
    };

    public static void Write(string path, string title, IReadOnlyList<(string Name, double[] Values)> series)
    {
        const int width = 640, height = 400, left = 48, right = 150, top = 28, bottom = 36;
        var canvas = new RgbCanvas(width, height, (255, 255, 255));
        int plotW = width - left - right, plotH = height - top - bottom;
        int epochs = Math.Max(2, series.Max(s => s.Values.Length));
        canvas.DrawText(left, 8, title, (0, 0, 0), 2);
        for (int tick = 0; tick <= 10; tick += 2)
        {
            int y = top + plotH - plotH * tick / 10;
            canvas.FillRectangle(left, y, plotW, 1, (225, 225, 225));
            canvas.DrawText(8, y - 3, (tick * 10).ToString(CultureInfo.InvariantCulture) + "%", (80, 80, 80));
        }
        for (int e = 1; e <= epochs; e++)
        {
            int x = left + plotW * (e - 1) / (epochs - 1);
            canvas.FillRectangle(x, top + plotH, 1, 4, (80, 80, 80));
            if (epochs <= 20 || e % 5 == 0) canvas.DrawText(x - 3, top + plotH + 8, e.ToString(CultureInfo.InvariantCulture), (80, 80, 80));
        }
        canvas.DrawText(left + plotW / 2 - 15, height - 12, "epoch", (80, 80, 80));
        for (int i = 0; i < series.Count; i++)
        {
            var colour = Palette[i % Palette.Length];
            var values = series[i].Values;
            (int X, int Y) Point(int e) => (left + plotW * e / (epochs - 1), top + plotH - (int)Math.Round(plotH * Math.Clamp(values[e], 0, 1)));
            for (int e = 0; e + 1 < values.Length; e++) DrawLine(canvas, Point(e), Point(e + 1), colour);
            foreach (var p in Enumerable.Range(0, values.Length).Select(Point)) canvas.FillRectangle(p.X - 2, p.Y - 2, 5, 5, colour);
            int legendY = top + 12 * i;
            canvas.FillRectangle(width - right + 10, legendY, 12, 7, colour);
            canvas.DrawText(width - right + 26, legendY, series[i].Name, (0, 0, 0));
        }
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        PngEncoder.Write(path, canvas.Pixels, width, height, 3);
    }

    private static void DrawLine(RgbCanvas canvas, (int X, int Y) a, (int X, int Y) b, (byte, byte, byte) colour)
    {
        int steps = Math.Max(Math.Abs(b.X - a.X), Math.Abs(b.Y - a.Y));
        for (int s = 0; s <= steps; s++)
        {
            int x = a.X + (b.X - a.X) * s / Math.Max(steps, 1), y = a.Y + (b.Y - a.Y) * s / Math.Max(steps, 1);
            canvas.FillRectangle(x, y, 2, 2, colour);
        }
    }
}
