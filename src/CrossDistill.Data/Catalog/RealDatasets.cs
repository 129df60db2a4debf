using CrossDistill.Data.Formats;

namespace CrossDistill.Data.Catalog;

/// <summary>Loaders for MNIST, Fashion-MNIST, CIFAR-10 and CIFAR-100 from their distribution files.</summary>
public static class RealDatasets
{
    /// <summary>
    /// MNIST or Fashion-MNIST from <c>{train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]</c> in
    /// <paramref name="root"/> (the names of both distributions; "train"/"test" pick the prefix).
    /// </summary>
    public static ByteImageDataset LoadIdx(string name, string root, string split, IReadOnlyList<string> classes)
    {
        string prefix = split switch
        {
            "train" => "train",
            "test" => "t10k",
            _ => throw new ArgumentException($"{name}: unknown split '{split}' (the files hold train and test)."),
        };
        string imagesPath = FindFile(root, $"{prefix}-images-idx3-ubyte", IdxReader.FormatName(3));
        string labelsPath = FindFile(root, $"{prefix}-labels-idx1-ubyte", IdxReader.FormatName(1));
        var images = IdxReader.Read(imagesPath, 3);
        var labels = IdxReader.Read(labelsPath, 1);
        int count = images.Dimensions[0], rows = images.Dimensions[1], columns = images.Dimensions[2];
        if (labels.Dimensions[0] != count)
            throw new DataFormatException(labelsPath, $"{labels.Dimensions[0]} labels for the {count} images of {imagesPath}", IdxReader.FormatName(1));
        var labelValues = new int[count];
        for (int i = 0; i < count; i++)
        {
            labelValues[i] = labels.Data[i];
            if (labelValues[i] >= classes.Count)
                throw new DataFormatException(labelsPath, $"label {labelValues[i]} of record {i} is outside the {classes.Count} classes of {name}", IdxReader.FormatName(1));
        }
        return new ByteImageDataset(name, split, 1, rows, columns, images.Data, labelValues, classes);
    }

    /// <summary>CIFAR-10 from <c>data_batch_1.bin</c>…<c>data_batch_5.bin</c> / <c>test_batch.bin</c> in <paramref name="root"/> or its <c>cifar-10-batches-bin</c> folder.</summary>
    public static ByteImageDataset LoadCifar10(string root, string split)
    {
        string dir = PickFolder(root, "cifar-10-batches-bin", "data_batch_1.bin", "test_batch.bin");
        string[] files = split switch
        {
            "train" => Enumerable.Range(1, 5).Select(i => Path.Combine(dir, $"data_batch_{i}.bin")).ToArray(),
            "test" => new[] { Path.Combine(dir, "test_batch.bin") },
            _ => throw new ArgumentException($"cifar10: unknown split '{split}' (the files hold train and test)."),
        };
        var records = CifarReader.ReadCifar10(files);
        var classes = ClassNames.FromFileOr(Path.Combine(dir, "batches.meta.txt"), ClassNames.Cifar10);
        return new ByteImageDataset("cifar10", split, 3, 32, 32, records.Pixels, records.Labels, classes);
    }

    /// <summary>CIFAR-100 from <c>train.bin</c> / <c>test.bin</c> in <paramref name="root"/> or its <c>cifar-100-binary</c> folder; fine labels, with the coarse ones as the secondary label.</summary>
    public static ByteImageDataset LoadCifar100(string root, string split)
    {
        string dir = PickFolder(root, "cifar-100-binary", "train.bin", "test.bin");
        string file = split switch
        {
            "train" => Path.Combine(dir, "train.bin"),
            "test" => Path.Combine(dir, "test.bin"),
            _ => throw new ArgumentException($"cifar100: unknown split '{split}' (the files hold train and test)."),
        };
        var records = CifarReader.ReadCifar100(file);
        var fine = ClassNames.FromFileOr(Path.Combine(dir, "fine_label_names.txt"), ClassNames.Cifar100Fine);
        var coarse = ClassNames.FromFileOr(Path.Combine(dir, "coarse_label_names.txt"), ClassNames.Cifar100Coarse);
        return new ByteImageDataset("cifar100", split, 3, 32, 32, records.Pixels, records.Labels, fine, "coarse", records.CoarseLabels, coarse);
    }

    // The official archives unpack into a named folder; accept the folder itself or its parent.
    private static string PickFolder(string root, string archiveFolder, params string[] markers)
    {
        string nested = Path.Combine(root, archiveFolder);
        if (!markers.Any(m => File.Exists(Path.Combine(root, m))) && Directory.Exists(nested)) return nested;
        return root;
    }

    private static string FindFile(string root, string baseName, string format)
    {
        foreach (var candidate in new[] { baseName + ".gz", baseName, baseName.Replace("-idx", ".idx") + ".gz", baseName.Replace("-idx", ".idx") })
        {
            string path = Path.Combine(root, candidate);
            if (File.Exists(path)) return path;
        }
        throw new DataFormatException(Path.Combine(root, baseName + ".gz"), $"file not found (nor {baseName} without .gz)", format);
    }
}
