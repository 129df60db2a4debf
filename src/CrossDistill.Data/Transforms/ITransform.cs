using CrossDistill.Engine;

namespace CrossDistill.Data.Transforms;

/// <summary>
/// A per-sample image transform. It takes ownership of <c>image</c>: it returns it (changed in
/// place) or returns a new image and disposes the input. Every random choice comes from
/// <c>rng</c>, which the loader seeds from (seed, epoch, sample index), so results do not depend
/// on threads or on the order samples are prepared in.
/// </summary>
public interface ITransform
{
    Image Apply(Image image, Generator rng);
}

/// <summary>Applies transforms one after another, all drawing from the same generator.</summary>
public sealed class Compose : ITransform
{
    public Compose(params ITransform[] transforms) => Transforms = transforms;

    public IReadOnlyList<ITransform> Transforms { get; }

    public Image Apply(Image image, Generator rng)
    {
        foreach (var t in Transforms) image = t.Apply(image, rng);
        return image;
    }
}
