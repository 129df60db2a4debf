namespace CrossDistill.Models.Tests;

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class MemoryCounterCollection
{
    public const string Name = "Serial: process-wide memory counters";
}

/// <summary>Without autograd, a CNN frees each block's temporaries as it goes instead of holding the whole pass.</summary>
[Collection(MemoryCounterCollection.Name)]
public class CnnInferenceMemoryTests
{
    [Theory]
    [InlineData("resnet50_cifar", "width", 8.0)]
    [InlineData("densenet121", "growth_rate", 8.0)]
    [InlineData("mobilenet_v2_cifar", "width_mult", 0.5)]
    [InlineData("convnext_tiny", "dim", 16.0)]
    public void InferenceHoldsFarLessThanARecordedPass(string preset, string option, double value)
    {
        using var model = ModelZoo.Create(preset, new ModelConfig { ImageSize = 64, Options = new Dictionary<string, double> { [option] = value } });
        model.Eval();
        var images = Torch.Randn(new[] { 4, 3, 64, 64 }, new Generator(2)).DetachFromScopes();
        try
        {
            long Peak(bool grad)
            {
                using var scope = DisposeScope.Enter();
                using var mode = grad ? GradMode.EnableGrad() : GradMode.NoGrad();
                long before = MemoryPool.BytesInUse;
                MemoryPool.ResetPeak();
                var output = model.ForwardFeatures(images);
                Assert.Equal(4, output.Logits.Shape[0]);
                return MemoryPool.PeakBytesInUse - before;
            }
            long recorded = Peak(grad: true), inference = Peak(grad: false);
            Assert.True(inference < recorded / 2, $"{preset}: an inference pass peaked at {inference / 1024} KiB, a recorded one at {recorded / 1024} KiB");
        }
        finally
        {
            images.Dispose();
        }
    }
}
