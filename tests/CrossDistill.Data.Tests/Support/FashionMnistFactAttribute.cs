using CrossDistill.Data.Catalog;

namespace CrossDistill.Data.Tests.Support;

/// <summary>A fact that runs only when Debian's dataset-fashion-mnist package has installed its files, and says why it skipped otherwise.</summary>
public sealed class FashionMnistFactAttribute : FactAttribute
{
    public static string TrainImages => Path.Combine(DataCatalog.DebianFashionMnistRoot, "train-images-idx3-ubyte.gz");

    public FashionMnistFactAttribute()
    {
        if (!File.Exists(TrainImages))
            Skip = $"Fashion-MNIST is not installed ({TrainImages} is missing); install Debian's dataset-fashion-mnist package (tools/setup.sh does) to run this test.";
    }
}
