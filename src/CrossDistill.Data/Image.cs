using System.Buffers;

namespace CrossDistill.Data;

/// <summary>
/// One image as float32 values in [0, 1] (until a normalising transform), planar C×H×W, the
/// layout of a batch tensor. The buffer comes from a shared pool because transforms make a new
/// image per sample per epoch; dispose an image you no longer need to give its buffer back.
/// </summary>
public sealed class Image : IDisposable
{
    private float[]? _buffer;

    public Image(int channels, int height, int width)
    {
        if (channels <= 0 || height <= 0 || width <= 0)
            throw new ArgumentException($"Image: channels, height and width must be positive, got {channels}×{height}×{width}.");
        Channels = channels;
        Height = height;
        Width = width;
        _buffer = ArrayPool<float>.Shared.Rent(checked(channels * height * width));
    }

    public int Channels { get; }
    public int Height { get; }
    public int Width { get; }
    public int Length => Channels * Height * Width;
    public int PlaneSize => Height * Width;

    /// <summary>All values, channel by channel, each channel row by row.</summary>
    public Span<float> Pixels => (_buffer ?? throw new ObjectDisposedException(nameof(Image))).AsSpan(0, Length);

    /// <summary>The values of channel <paramref name="c"/>, row by row.</summary>
    public Span<float> Plane(int c) => Pixels.Slice(c * PlaneSize, PlaneSize);

    public float this[int c, int y, int x]
    {
        get => Pixels[(c * Height + y) * Width + x];
        set => Pixels[(c * Height + y) * Width + x] = value;
    }

    public static Image FromPixels(int channels, int height, int width, ReadOnlySpan<float> pixels)
    {
        var image = new Image(channels, height, width);
        if (pixels.Length != image.Length)
            throw new ArgumentException($"Image.FromPixels: {pixels.Length} values do not fill {channels}×{height}×{width}.");
        pixels.CopyTo(image.Pixels);
        return image;
    }

    public Image Clone() => FromPixels(Channels, Height, Width, Pixels);

    /// <summary>"3×32×32".</summary>
    public string ShapeText => $"{Channels}×{Height}×{Width}";

    public void Dispose()
    {
        var buffer = Interlocked.Exchange(ref _buffer, null);
        if (buffer is not null) ArrayPool<float>.Shared.Return(buffer);
    }
}
