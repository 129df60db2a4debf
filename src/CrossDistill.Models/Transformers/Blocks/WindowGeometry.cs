namespace CrossDistill.Models.Transformers;

/// <summary>
/// Where the tokens of a Swin block go for a fixed H×W map: the map is padded at the bottom and
/// right to window multiples, cyclically shifted by (−shift, −shift), and cut into windows, as
/// torchvision's shifted_window_attention does. Padding, shift and window partition fold into one
/// row gather (<see cref="Partition"/>); un-partition, reverse shift and crop into another
/// (<see cref="Reverse"/>). A shift is dropped along a dim the (padded) map fits in one window.
/// With <c>clampToMap</c> (timm's rule) a map no larger than the window becomes a single unshifted
/// window of the map's size.
/// </summary>
public sealed class WindowGeometry
{
    private WindowGeometry(int height, int width, int window, int shiftH, int shiftW)
    {
        (Height, Width, Window, ShiftH, ShiftW) = (height, width, window, shiftH, shiftW);
        PaddedHeight = (height + window - 1) / window * window;
        PaddedWidth = (width + window - 1) / window * window;
    }

    public int Height { get; }
    public int Width { get; }
    public int Window { get; }
    public int ShiftH { get; }
    public int ShiftW { get; }
    public int PaddedHeight { get; }
    public int PaddedWidth { get; }
    public int WindowArea => Window * Window;
    public int WindowCount => PaddedHeight / Window * (PaddedWidth / Window);
    public bool IsShifted => ShiftH > 0 || ShiftW > 0;
    public bool IsPadded => PaddedHeight != Height || PaddedWidth != Width;

    public static WindowGeometry Create(int height, int width, int window, int shift, bool clampToMap)
    {
        if (height < 1 || width < 1 || window < 1 || shift < 0)
            throw new ArgumentException($"WindowGeometry: invalid map {height}×{width}, window {window} or shift {shift}.");
        if (clampToMap && Math.Min(height, width) <= window)
        {
            window = Math.Min(height, width);
            shift = 0;
        }
        if (shift >= window) throw new ArgumentException($"WindowGeometry: shift {shift} must be smaller than the window {window}.");
        int paddedH = (height + window - 1) / window * window, paddedW = (width + window - 1) / window * window;
        return new WindowGeometry(height, width, window, window >= paddedH ? 0 : shift, window >= paddedW ? 0 : shift);
    }

    /// <summary>
    /// For each row of the windowed sequence (windows in row-major order, tokens row-major inside),
    /// the row of the padded map it reads; null when that is the identity.
    /// </summary>
    public long[]? Partition()
    {
        int across = PaddedWidth / Window, area = WindowArea;
        var rows = new long[PaddedHeight * PaddedWidth];
        bool identity = true;
        for (int p = 0; p < rows.Length; p++)
        {
            int windowIndex = p / area, r = p % area;
            int y = windowIndex / across * Window + r / Window, x = windowIndex % across * Window + r % Window;
            rows[p] = (long)((y + ShiftH) % PaddedHeight) * PaddedWidth + (x + ShiftW) % PaddedWidth;
            identity &= rows[p] == p;
        }
        return identity ? null : rows;
    }

    /// <summary>For each token of the H×W map (row-major), its row in the windowed sequence; null when that is the identity.</summary>
    public long[]? Reverse()
    {
        int across = PaddedWidth / Window;
        var rows = new long[Height * Width];
        bool identity = !IsPadded;
        for (int y = 0; y < Height; y++)
            for (int x = 0; x < Width; x++)
            {
                int sy = (y - ShiftH + PaddedHeight) % PaddedHeight, sx = (x - ShiftW + PaddedWidth) % PaddedWidth;
                long row = (long)(sy / Window * across + sx / Window) * WindowArea + sy % Window * Window + sx % Window;
                rows[y * Width + x] = row;
                identity &= row == y * Width + x;
            }
        return identity ? null : rows;
    }

    /// <summary>
    /// The additive mask (windows, area, area) of shifted windows: −100 between tokens that came
    /// from different regions of the unshifted map, 0 otherwise (torchvision's values); null when unshifted.
    /// </summary>
    public float[]? ShiftMask()
    {
        if (!IsShifted) return null;
        var label = new int[PaddedHeight * PaddedWidth];
        var rowSlices = RegionSlices(PaddedHeight, ShiftH);
        var colSlices = RegionSlices(PaddedWidth, ShiftW);
        int count = 0;
        foreach (var (y0, y1) in rowSlices)
            foreach (var (x0, x1) in colSlices)
            {
                for (int y = y0; y < y1; y++)
                    for (int x = x0; x < x1; x++) label[y * PaddedWidth + x] = count;
                count++;
            }
        int across = PaddedWidth / Window, area = WindowArea;
        var mask = new float[WindowCount * area * area];
        var windowLabels = new int[area];
        for (int w = 0; w < WindowCount; w++)
        {
            for (int r = 0; r < area; r++)
                windowLabels[r] = label[(w / across * Window + r / Window) * PaddedWidth + w % across * Window + r % Window];
            for (int i = 0; i < area; i++)
                for (int j = 0; j < area; j++)
                    mask[(w * area + i) * area + j] = windowLabels[i] == windowLabels[j] ? 0f : -100f;
        }
        return mask;
    }

    /// <summary>
    /// The three region slices (0, −window), (−window, −shift), (−shift, end) along a dim of
    /// <paramref name="size"/>, resolved with Python's slice rules so that a zero shift behaves as in
    /// torchvision (the last slice then covers the whole dim).
    /// </summary>
    private (int Start, int End)[] RegionSlices(int size, int shift)
    {
        int Resolve(int index) => Math.Clamp(index < 0 ? index + size : index, 0, size);
        return new[]
        {
            (0, Resolve(-Window)),
            (Resolve(-Window), Resolve(-shift)),
            (Resolve(-shift), size),
        };
    }

    /// <summary>
    /// torchvision's relative_position_index for a window: for token pairs (i, j), the row of the
    /// (2w−1)² bias table holding their offset, flattened to (area²).
    /// </summary>
    public static long[] RelativePositionIndex(int window)
    {
        int area = window * window;
        var index = new long[area * area];
        for (int i = 0; i < area; i++)
            for (int j = 0; j < area; j++)
            {
                int dy = i / window - j / window + window - 1, dx = i % window - j % window + window - 1;
                index[i * area + j] = dy * (2 * window - 1) + dx;
            }
        return index;
    }
}
