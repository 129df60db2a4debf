using System.Diagnostics;
using CrossDistill.Models;
using Xunit.Abstractions;

namespace CrossDistill.Models.Tests;

/// <summary>
/// Full-size parity at 224 px, eval mode: torchvision's own vit_b_16 and swin_t, and the plain-PyTorch
/// references of the timm-named deit_tiny_patch16_224, mixer_b16_224 and resmlp_12_224. The reference
/// (random weights, input, logits, features) is generated in a temporary directory at test time by
/// tools/fixtures/gen_models_vit.py; these tests skip where /usr/bin/python3 has no torch.
/// </summary>
public class TransformerFullSizeTests(ITestOutputHelper output)
{
    [PyTorchFact]
    public void VitB16MatchesTorchvision() => Check("vit_b_16");

    [PyTorchFact]
    public void SwinTMatchesTorchvision() => Check("swin_t");

    [PyTorchFact]
    public void DeitTinyMatchesTheTimmReference() => Check("deit_tiny_patch16_224");

    [PyTorchFact]
    public void MixerB16MatchesTheTimmReference() => Check("mixer_b16_224");

    [PyTorchFact]
    public void ResMlp12MatchesTheTimmReference() => Check("resmlp_12_224");

    private void Check(string name)
    {
        var directory = Directory.CreateTempSubdirectory("crossdistill_models_");
        try
        {
            var clock = Stopwatch.StartNew();
            Python.Run("import sys, gen_models_vit as g; g.full_case(sys.argv[1], sys.argv[2])", name, directory.FullName);
            var generated = clock.Elapsed;
            using var fixture = TransformerModelFixture.LoadFile(Path.Combine(directory.FullName, name + ".safetensors"));
            using var model = ModelZoo.Create(name);
            fixture.Check(model, rtol: 1e-4f, atol: 1e-4f);
            output.WriteLine($"{name}: reference {generated.TotalSeconds:F1} s, build + load + forward {(clock.Elapsed - generated).TotalSeconds:F1} s");
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }
}
