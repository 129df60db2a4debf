namespace CrossDistill.Models.Cnn;

/// <summary>
/// The convolutional networks of the zoo, by torchvision's names, plus the CIFAR-stem variants of
/// ResNet and MobileNetV2 (for 32×32 inputs). Every preset takes the config's classes, input
/// channels and image size and the options its class documents (width, width_mult, growth_rate,
/// dim, …), so small versions for two CPU cores come from the same presets.
/// </summary>
[ModelPresets]
public static class CnnPresets
{
    public static IEnumerable<ModelPreset> Presets()
    {
        foreach (bool cifar in new[] { false, true })
        {
            string suffix = cifar ? "_cifar" : "";
            int size = cifar ? 32 : 224;
            string stem = cifar ? "CIFAR stem: 3×3/1 conv, no max pool" : "ImageNet stem: 7×7/2 conv + max pool";
            yield return Preset("resnet18" + suffix, size, $"ResNet-18 (BasicBlock [2, 2, 2, 2]), {stem}; option width (64)",
                (name, c) => new ResNet(name, c, ResNetBlock.Basic, new[] { 2, 2, 2, 2 }, cifar));
            yield return Preset("resnet34" + suffix, size, $"ResNet-34 (BasicBlock [3, 4, 6, 3]), {stem}; option width (64)",
                (name, c) => new ResNet(name, c, ResNetBlock.Basic, new[] { 3, 4, 6, 3 }, cifar));
            yield return Preset("resnet50" + suffix, size, $"ResNet-50 (Bottleneck [3, 4, 6, 3]), {stem}; option width (64)",
                (name, c) => new ResNet(name, c, ResNetBlock.Bottleneck, new[] { 3, 4, 6, 3 }, cifar));
            yield return Preset("mobilenet_v2" + suffix, size,
                cifar ? "MobileNetV2 with a stride-1 stem and features.4 (overall stride 8: 32×32 → 4×4); options width_mult (1), round_nearest (8)"
                      : "MobileNetV2 (torchvision); options width_mult (1), round_nearest (8)",
                (name, c) => new MobileNetV2(name, c, cifar));
        }
        yield return Preset("densenet121", 224, "DenseNet-121 (block_config [6, 12, 24, 16]); options growth_rate (32), num_init_features (64), bn_size (4)",
            (name, c) => new DenseNet(name, c, new[] { 6, 12, 24, 16 }));
        yield return Preset("convnext_tiny", 224, "ConvNeXt-T (depths [3, 3, 9, 3], dims [96, 192, 384, 768]); options dim (96), depth_multiplier (1)",
            (name, c) => new ConvNeXt(name, c, ConvNeXt.DepthsFor(c, ConvNeXt.TinyDepths), ConvNeXt.DimsFor(c)));
    }

    private static ModelPreset Preset(string name, int size, string description, Func<string, ModelConfig, VisionModel> create)
        => new(name, "cnn", "torchvision", size, description, config => create(name, config));
}
