namespace CrossDistill.Models.Tests;

/// <summary>
/// The full-size torchvision networks (random weights, 224×224, batch 2, eval mode), generated once
/// per test run into a temporary directory by tools/fixtures/gen_models_cnn.py and deleted after.
/// </summary>
public sealed class TorchvisionFullSizeCases : IDisposable
{
    public static readonly string[] Names = { "resnet18", "resnet34", "resnet50", "mobilenet_v2", "densenet121", "convnext_tiny" };

    private const string Script = """
import sys, torch
torch.set_num_threads(2)
import gen_models_cnn
for name in sys.argv[2:]:
    gen_models_cnn.full(sys.argv[1], name)
""";

    private readonly string _dir = Path.Combine(Path.GetTempPath(), $"crossdistill-cnn-full-{Environment.ProcessId}-{Guid.NewGuid():N}");
    private readonly Lazy<string> _generated;

    public TorchvisionFullSizeCases() => _generated = new(() =>
    {
        Python.Run(Script, new[] { _dir }.Concat(Names).ToArray());
        return _dir;
    });

    /// <summary>The directory holding every case, generated on first use.</summary>
    public string Directory => _generated.Value;

    public void Dispose()
    {
        if (System.IO.Directory.Exists(_dir)) System.IO.Directory.Delete(_dir, recursive: true);
    }
}

public class CnnFullSizeParityTests : IClassFixture<TorchvisionFullSizeCases>
{
    private readonly TorchvisionFullSizeCases _cases;

    public CnnFullSizeParityTests(TorchvisionFullSizeCases cases) => _cases = cases;

    private void Check(string name) => CnnReference.Check(_cases.Directory, name, tol: 1e-4f, gradTol: 1e-3f);

    [TorchvisionFact] public void ResNet18MatchesTorchvision() => Check("resnet18");

    [TorchvisionFact] public void ResNet34MatchesTorchvision() => Check("resnet34");

    [TorchvisionFact] public void ResNet50MatchesTorchvision() => Check("resnet50");

    [TorchvisionFact] public void MobileNetV2MatchesTorchvision() => Check("mobilenet_v2");

    [TorchvisionFact] public void DenseNet121MatchesTorchvision() => Check("densenet121");

    [TorchvisionFact] public void ConvNeXtTinyMatchesTorchvision() => Check("convnext_tiny");
}
