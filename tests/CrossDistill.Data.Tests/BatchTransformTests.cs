using CrossDistill.Data.Transforms;

namespace CrossDistill.Data.Tests;

public class BatchTransformTests
{
    private static BatchBuffer MakeBatch(int count, int classes, int channels = 2, int size = 6)
    {
        var images = Torch.Empty(count, channels, size, size).DetachFromScopes();
        var span = images.Span;
        int length = channels * size * size;
        // Each image is constant at its own index + 1, so any mixing shows as a blend of those values.
        for (int i = 0; i < count; i++) span.Slice(i * length, length).Fill(i + 1);
        return new BatchBuffer(images, Enumerable.Range(0, count).Select(i => i % classes).ToArray(), classes);
    }

    [Fact]
    public void LabelSmoothing_GivesTorchsTargets()
    {
        var batch = MakeBatch(3, 4);
        new LabelSmoothing(0.2).Apply(batch, new Generator(0));
        var t = batch.SoftTargets!;
        Assert.Equal(0.85f, t[0], 6);
        Assert.Equal(0.05f, t[1], 6);
        Assert.Equal(0.85f, t[4 + 1], 6);
        for (int i = 0; i < 3; i++) Assert.Equal(1f, t.AsSpan(i * 4, 4).ToArray().Sum(), 5);
        Assert.Throws<ArgumentException>(() => new LabelSmoothing(1.0));
    }

    [Fact]
    public void Mixup_BlendsImagesAndTargetsWithOneLambda()
    {
        var batch = MakeBatch(8, 10);
        new Mixup(0.4).Apply(batch, new Generator(3));
        int length = batch.ImageLength;
        var targets = batch.SoftTargets!;
        var ownWeights = new List<float>();
        for (int i = 0; i < 8; i++)
        {
            var image = batch.Images.Slice(i * length, length).ToArray();
            Assert.All(image, v => Assert.Equal(image[0], v, 4));
            var row = targets.AsSpan(i * 10, 10).ToArray();
            Assert.Equal(1f, row.Sum(), 5);
            // Label i is sample i's, so the row says who was mixed in and how much; the image must agree.
            float expected = 0;
            for (int j = 0; j < 10; j++) expected += row[j] * (j + 1);
            Assert.Equal(expected, image[0], 4);
            var mixedIn = Enumerable.Range(0, 10).Where(j => row[j] > 0).ToArray();
            Assert.InRange(mixedIn.Length, 1, 2);
            if (mixedIn.Length == 2) ownWeights.Add(row[i]);
        }
        Assert.NotEmpty(ownWeights);
        Assert.All(ownWeights, w => Assert.Equal(ownWeights[0], w, 5));
        Assert.Throws<ArgumentException>(() => new Mixup(0));
    }

    [Fact]
    public void CutMix_PastesABoxFromThePartner_AndWeighsTargetsByItsArea()
    {
        for (ulong seed = 0; seed < 20; seed++)
        {
            var batch = MakeBatch(5, 5, channels: 1, size: 10);
            new CutMix(1.0).Apply(batch, new Generator(seed));
            var targets = batch.SoftTargets!;
            for (int i = 0; i < 5; i++)
            {
                var image = batch.Images.Slice(i * 100, 100).ToArray();
                var foreign = image.Select((v, k) => (v, k)).Where(p => p.v != i + 1).ToArray();
                float ownWeight = targets[i * 5 + i];
                if (foreign.Length == 0)
                {
                    // The partner was itself or the box was empty: all weight stays, unless the box is the partner's own.
                    Assert.True(ownWeight > 0.99f || image.All(v => v == i + 1));
                    continue;
                }
                int partner = (int)foreign[0].v - 1;
                Assert.All(foreign, p => Assert.Equal(partner + 1, p.v));
                // The foreign pixels form one rectangle.
                int top = foreign.Min(p => p.k / 10), bottom = foreign.Max(p => p.k / 10), left = foreign.Min(p => p.k % 10), right = foreign.Max(p => p.k % 10);
                Assert.Equal((bottom - top + 1) * (right - left + 1), foreign.Length);
                Assert.Equal(1f - foreign.Length / 100f, ownWeight, 5);
                Assert.Equal(foreign.Length / 100f, targets[i * 5 + partner], 5);
            }
        }
    }

    [Fact]
    public void CutMixBox_IsClippedToTheImage()
    {
        Assert.Equal((0, 0, 3, 3), CutMix.Box(10, 10, 0.64, 0, 0));
        Assert.Equal((2, 3, 8, 9), CutMix.Box(10, 10, 0.64, 5, 6));
        // A 6×6 box centred at (9, 9) spans 6..12, clipped to 6..10.
        Assert.Equal((6, 6, 10, 10), CutMix.Box(10, 10, 0.64, 9, 9));
        Assert.Equal((5, 5, 5, 5), CutMix.Box(10, 10, 1.0, 5, 5));
    }

    [Fact]
    public void MixupOrCutMix_IsSeedDetermined_AndCanSkip()
    {
        var a = MakeBatch(6, 3);
        var b = MakeBatch(6, 3);
        var mix = new MixupOrCutMix(0.8, 1.0, switchProbability: 0.5);
        mix.Apply(a, new Generator(9));
        mix.Apply(b, new Generator(9));
        Assert.Equal(a.Images.ToArray(), b.Images.ToArray());
        Assert.Equal(a.SoftTargets, b.SoftTargets);

        var skipped = MakeBatch(4, 4);
        new MixupOrCutMix(probability: 0).Apply(skipped, new Generator(1));
        Assert.Equal(new float[] { 1, 0, 0, 0 }, skipped.SoftTargets!.Take(4));
    }

    [Fact]
    public void BetaDraws_HaveTheRightMean()
    {
        var rng = new Generator(5);
        foreach (var (alpha, beta) in new[] { (0.2, 0.2), (1.0, 1.0), (2.0, 5.0) })
        {
            double sum = 0;
            for (int i = 0; i < 20000; i++)
            {
                double x = rng.NextBeta(alpha, beta);
                Assert.InRange(x, 0, 1);
                sum += x;
            }
            Assert.InRange(sum / 20000, alpha / (alpha + beta) - 0.01, alpha / (alpha + beta) + 0.01);
        }
    }
}
