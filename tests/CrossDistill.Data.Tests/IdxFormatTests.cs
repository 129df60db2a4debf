using CrossDistill.Data.Catalog;
using CrossDistill.Data.Formats;
using CrossDistill.Data.Tests.Support;

namespace CrossDistill.Data.Tests;

public class IdxFormatTests
{
    private static (byte[][] Images, byte[] Labels) Sample(int count, int rows, int cols, int seed)
    {
        var random = new Random(seed);
        var images = FormatWriters.RandomImages(random, count, rows * cols);
        var labels = Enumerable.Range(0, count).Select(i => (byte)random.Next(10)).ToArray();
        return (images, labels);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void MnistFiles_ReadBackPixelsLabelsAndShape(bool gzip)
    {
        using var temp = new TempFolder();
        var (trainImages, trainLabels) = Sample(7, 5, 4, 1);
        var (testImages, testLabels) = Sample(3, 5, 4, 2);
        FormatWriters.WriteMnistPair(temp.Path, "train", trainImages, trainLabels, 5, 4, gzip);
        FormatWriters.WriteMnistPair(temp.Path, "t10k", testImages, testLabels, 5, 4, gzip);

        var train = DataCatalog.Load("mnist", "train", temp.Path);
        var test = DataCatalog.Load("MNIST", "test", temp.Path);
        Assert.Equal((7, 1, 5, 4), (train.Count, train.Channels, train.Height, train.Width));
        Assert.Equal(3, test.Count);
        Assert.Equal(ClassNames.Mnist, train.Classes);
        for (int i = 0; i < 7; i++)
        {
            Assert.Equal(trainLabels[i], train.Label(i));
            var image = new float[20];
            train.ReadImage(i, image);
            Assert.Equal(trainImages[i].Select(b => b / 255f), image);
        }
        Assert.Equal(testLabels.Select(l => (int)l), Enumerable.Range(0, 3).Select(test.Label));
    }

    [Fact]
    public void FashionMnist_FromAGivenRoot_HasItsClassNames()
    {
        using var temp = new TempFolder();
        var (images, labels) = Sample(4, 28, 28, 3);
        FormatWriters.WriteMnistPair(temp.Path, "t10k", images, labels, 28, 28, gzip: true);
        var test = DataCatalog.Load("fashion-mnist", "test", temp.Path);
        Assert.Equal("fashion-mnist", test.Name);
        Assert.Equal("Ankle boot", test.Classes[9]);
        Assert.Equal(4, test.Count);
    }

    private static DataFormatException ReadBroken(byte[] content, int dims, string fileName = "broken-idx")
    {
        using var temp = new TempFolder();
        string path = temp.File(fileName);
        File.WriteAllBytes(path, content);
        return Assert.Throws<DataFormatException>(() => IdxReader.Read(path, dims));
    }

    [Fact]
    public void WrongMagic_NamesTheFileAndTheFormat()
    {
        var labelsFile = FormatWriters.Idx(new[] { 3 }, new byte[] { 1, 2, 3 });
        var e = ReadBroken(labelsFile, 3, "train-images-idx3-ubyte");
        Assert.Contains("train-images-idx3-ubyte", e.Message);
        Assert.Contains("wrong magic number 0x00000801", e.Message);
        Assert.Contains("0x00000803", e.Message);
        Assert.Contains("IDX image file", e.Message);

        var png = new byte[] { 0x89, 0x50, 0x4E, 0x47, 0, 0, 0, 0 };
        Assert.Contains("not an IDX file", ReadBroken(png, 1).Message);
    }

    [Fact]
    public void TruncatedData_IsReportedWithTheSizes()
    {
        var full = FormatWriters.Idx(new[] { 2, 3, 3 }, new byte[18]);
        var e = ReadBroken(full[..^5], 3);
        Assert.Contains("truncated", e.Message);
        Assert.Contains("2×3×3 = 18", e.Message);
        Assert.Contains("13", e.Message);
        Assert.Contains("truncated", ReadBroken(full[..10], 3).Message);
        Assert.Contains("truncated", ReadBroken(new byte[] { 0, 0 }, 3).Message);
    }

    [Fact]
    public void TrailingBytes_AreAWrongRecordSize()
    {
        var full = FormatWriters.Idx(new[] { 4 }, new byte[] { 1, 2, 3, 4 });
        var e = ReadBroken(full.Concat(new byte[] { 9, 9 }).ToArray(), 1);
        Assert.Contains("wrong record size", e.Message);
    }

    [Fact]
    public void TruncatedGzip_IsReported()
    {
        var gz = FormatWriters.Gzip(FormatWriters.Idx(new[] { 50, 10, 10 }, new byte[5000]));
        var e = ReadBroken(gz[..(gz.Length / 2)], 3);
        Assert.True(e.Message.Contains("truncated") || e.Message.Contains("corrupt gzip"), e.Message);
    }

    [Fact]
    public void MissingFiles_NameTheExpectedFile()
    {
        using var temp = new TempFolder();
        var e = Assert.Throws<DataFormatException>(() => DataCatalog.Load("mnist", "train", temp.Path));
        Assert.Contains(Path.Combine(temp.Path, "train-images-idx3-ubyte.gz"), e.Message);
        Assert.Contains("file not found", e.Message);
        Assert.Contains("IDX image file", e.Message);
    }

    [Fact]
    public void LabelCountMismatch_AndLabelOutOfRange_AreReported()
    {
        using var temp = new TempFolder();
        var (images, labels) = Sample(4, 2, 2, 4);
        FormatWriters.WriteMnistPair(temp.Path, "train", images, labels[..3], 2, 2, gzip: false);
        var e = Assert.Throws<DataFormatException>(() => DataCatalog.Load("mnist", "train", temp.Path));
        Assert.Contains("3 labels for the 4 images", e.Message);

        labels[2] = 12;
        FormatWriters.WriteMnistPair(temp.Path, "train", images, labels, 2, 2, gzip: false);
        e = Assert.Throws<DataFormatException>(() => DataCatalog.Load("mnist", "train", temp.Path));
        Assert.Contains("label 12 of record 2", e.Message);
    }
}

public class CifarFormatTests
{
    private static readonly Random Random = new(11);

    private static (byte[] Labels, byte[][] Images) Records(int count, int classes)
    {
        var labels = Enumerable.Range(0, count).Select(i => (byte)(i % classes)).ToArray();
        return (labels, FormatWriters.RandomImages(Random, count, 3072));
    }

    [Fact]
    public void Cifar10_ReadsAllBatchesInOrder_WithPlanarRgb()
    {
        using var temp = new TempFolder();
        string dir = Directory.CreateDirectory(temp.File("cifar-10-batches-bin")).FullName;
        var batches = Enumerable.Range(0, 5).Select(_ => Records(3, 10)).ToArray();
        for (int b = 0; b < 5; b++) File.WriteAllBytes(Path.Combine(dir, $"data_batch_{b + 1}.bin"), FormatWriters.Cifar10(batches[b].Labels, batches[b].Images));
        var test = Records(2, 10);
        File.WriteAllBytes(Path.Combine(dir, "test_batch.bin"), FormatWriters.Cifar10(test.Labels, test.Images));

        var train = DataCatalog.Load("cifar-10", "train", temp.Path);
        Assert.Equal((15, 3, 32, 32), (train.Count, train.Channels, train.Height, train.Width));
        var image = new float[3072];
        for (int b = 0; b < 5; b++)
            for (int r = 0; r < 3; r++)
            {
                int i = b * 3 + r;
                Assert.Equal(batches[b].Labels[r], train.Label(i));
                train.ReadImage(i, image);
                var source = batches[b].Images[r];
                // Red plane first, then green, then blue, rows top to bottom.
                Assert.Equal(source[0] / 255f, image[0]);
                Assert.Equal(source[1024 + 32 * 5 + 7] / 255f, image[1024 + 32 * 5 + 7]);
                Assert.Equal(source[3071] / 255f, image[3071]);
            }
        var testSet = DataCatalog.Load("cifar10", "test", dir);
        Assert.Equal(2, testSet.Count);
        Assert.Equal("airplane", testSet.Classes[0]);
    }

    [Fact]
    public void Cifar10_ClassNamesComeFromBatchesMetaWhenPresent()
    {
        using var temp = new TempFolder();
        var test = Records(2, 10);
        File.WriteAllBytes(temp.File("test_batch.bin"), FormatWriters.Cifar10(test.Labels, test.Images));
        File.WriteAllLines(temp.File("batches.meta.txt"), Enumerable.Range(0, 10).Select(i => $"c{i}").Append(""));
        Assert.Equal("c3", DataCatalog.Load("cifar10", "test", temp.Path).Classes[3]);
    }

    [Fact]
    public void Cifar100_HasFineLabelsAndCoarseSecondaryLabels()
    {
        using var temp = new TempFolder();
        string dir = Directory.CreateDirectory(temp.File("cifar-100-binary")).FullName;
        var fine = new byte[] { 0, 99, 42, 7 };
        var coarse = new byte[] { 4, 19, 0, 3 };
        var images = FormatWriters.RandomImages(Random, 4, 3072);
        File.WriteAllBytes(Path.Combine(dir, "train.bin"), FormatWriters.Cifar100(coarse, fine, images));
        var train = DataCatalog.Load("cifar100", "train", temp.Path);
        Assert.Equal(4, train.Count);
        Assert.Equal(100, train.Classes.Count);
        Assert.Equal("coarse", train.SecondaryLabelName);
        Assert.Equal(20, train.SecondaryClasses!.Count);
        Assert.Equal(fine.Select(f => (int)f), Enumerable.Range(0, 4).Select(train.Label));
        Assert.Equal(coarse.Select(c => (int)c), Enumerable.Range(0, 4).Select(train.SecondaryLabel));
        Assert.Equal("worm", train.Classes[99]);
        Assert.Equal("vehicles_2", train.SecondaryClasses[19]);
        var pixels = new float[3072];
        train.ReadImage(2, pixels);
        Assert.Equal(images[2][2000] / 255f, pixels[2000]);
    }

    [Fact]
    public void WrongRecordSize_NamesTheFileAndTheRecordLayout()
    {
        using var temp = new TempFolder();
        var (labels, images) = Records(2, 10);
        var bytes = FormatWriters.Cifar10(labels, images);
        File.WriteAllBytes(temp.File("test_batch.bin"), bytes[..^100]);
        var e = Assert.Throws<DataFormatException>(() => DataCatalog.Load("cifar10", "test", temp.Path));
        Assert.Contains(temp.File("test_batch.bin"), e.Message);
        Assert.Contains("3073-byte records", e.Message);
        Assert.Contains("1 label byte (0-9) + 3072 pixel bytes", e.Message);
    }

    [Fact]
    public void Cifar100FileGivenAsCifar10_IsRecognised()
    {
        using var temp = new TempFolder();
        var images = FormatWriters.RandomImages(Random, 3, 3072);
        File.WriteAllBytes(temp.File("test_batch.bin"), FormatWriters.Cifar100(new byte[] { 1, 2, 3 }, new byte[] { 50, 60, 70 }, images));
        var e = Assert.Throws<DataFormatException>(() => DataCatalog.Load("cifar10", "test", temp.Path));
        Assert.Contains("CIFAR-100", e.Message);
    }

    [Fact]
    public void LabelOutOfRange_AndEmptyAndMissingFiles_AreReported()
    {
        using var temp = new TempFolder();
        var (labels, images) = Records(2, 10);
        labels[1] = 10;
        File.WriteAllBytes(temp.File("test_batch.bin"), FormatWriters.Cifar10(labels, images));
        var e = Assert.Throws<DataFormatException>(() => DataCatalog.Load("cifar10", "test", temp.Path));
        Assert.Contains("record 1 has label 10", e.Message);

        File.WriteAllBytes(temp.File("test_batch.bin"), Array.Empty<byte>());
        Assert.Contains("empty", Assert.Throws<DataFormatException>(() => DataCatalog.Load("cifar10", "test", temp.Path)).Message);

        e = Assert.Throws<DataFormatException>(() => DataCatalog.Load("cifar10", "train", temp.Path));
        Assert.Contains("data_batch_1.bin: file not found", e.Message);
        Assert.Contains("CIFAR-10 binary batch", e.Message);

        e = Assert.Throws<DataFormatException>(() => DataCatalog.Load("cifar100", "test", temp.Path));
        Assert.Contains("test.bin: file not found", e.Message);
        Assert.Contains("coarse label byte", e.Message);
    }
}
