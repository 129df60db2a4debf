using CrossDistill.Data.Catalog;
using CrossDistill.Data.Shapes;

namespace CrossDistill.Data.Tests;

public class ShapesDatasetTests
{
    private static readonly ShapesOptions Small = new() { TrainCount = 120, TestCount = 60, Seed = 7 };

    private static byte[] Render(ShapeSpec spec, int size, out float[] coverage)
    {
        var image = new float[3 * size * size];
        coverage = new float[size * size];
        ShapesRenderer.Render(spec, size, image, coverage);
        var bytes = new byte[image.Length];
        PixelConvert.UnitToBytes(image, bytes);
        return bytes;
    }

    [Fact]
    public void SameSeed_GivesTheSameImages_OtherSeedsAndSplitsDiffer()
    {
        var a = ShapesDataset.Create(ShapesSplit.Train, Small);
        var b = ShapesDataset.Create(ShapesSplit.Train, Small);
        var otherSeed = ShapesDataset.Create(ShapesSplit.Train, Small with { Seed = 8 });
        var test = ShapesDataset.Create(ShapesSplit.Test, Small);
        for (int i = 0; i < a.Count; i++)
        {
            Assert.True(a.RawImage(i).SequenceEqual(b.RawImage(i)), $"image {i} differs between two generations");
            Assert.Equal(a.SecondaryLabel(i), b.SecondaryLabel(i));
        }
        int sameAsOtherSeed = Enumerable.Range(0, 60).Count(i => a.RawImage(i).SequenceEqual(otherSeed.RawImage(i)));
        int sameAsTest = Enumerable.Range(0, 60).Count(i => a.RawImage(i).SequenceEqual(test.RawImage(i)));
        Assert.Equal(0, sameAsOtherSeed);
        Assert.Equal(0, sameAsTest);
    }

    [Fact]
    public void StoredImagesAndMasks_AreTheRenderingOfTheirSpecs()
    {
        foreach (var split in Enum.GetValues<ShapesSplit>())
        {
            var data = ShapesDataset.Create(split, Small with { TrainCount = 20, TestCount = 20 });
            for (int i = 0; i < data.Count; i += 7)
            {
                var bytes = Render(data.Spec(i), 32, out var coverage);
                Assert.True(bytes.AsSpan().SequenceEqual(data.RawImage(i)), $"{split} image {i}");
                Assert.Equal(coverage.Select(PixelConvert.UnitToByte), data.Mask(i).ToArray());
            }
        }
    }

    [Fact]
    public void LabelsAreBalanced_AndCarryTheTextureClass()
    {
        var train = ShapesDataset.Create(ShapesSplit.Train, Small);
        Assert.Equal(10, train.Classes.Count);
        Assert.Equal("circle/stripes", train.Classes[0]);
        Assert.Equal("texture", train.SecondaryLabelName);
        var counts = Enumerable.Range(0, train.Count).GroupBy(train.Label).Select(g => g.Count()).ToArray();
        Assert.Equal(10, counts.Length);
        Assert.All(counts, c => Assert.Equal(12, c));
        Assert.All(Enumerable.Range(0, train.Count), i => Assert.Equal(train.Spec(i).TextureClass, train.SecondaryLabel(i)));
    }

    [Theory]
    [InlineData(1.0)]
    [InlineData(0.7)]
    [InlineData(0.0)]
    public void TextureProbability_SetsHowOftenTheShapeWearsItsOwnTexture(double p)
    {
        var options = Small with { TrainCount = 0, TestCount = 0, TextureProbability = p };
        int n = 3000, own = 0;
        for (int i = 0; i < n; i++)
        {
            var spec = ShapesDataset.MakeSpec(options, ShapesSplit.Train, i);
            if (spec.TextureClass == spec.ShapeClass) own++;
        }
        // Binomial standard deviation at n = 3000 is under 0.01.
        Assert.InRange(own / (double)n, p - 0.04, p + 0.04);
    }

    [Fact]
    public void CueConflict_ShapeMaskComesFromTheLabel_TextureFromAnotherClass()
    {
        var options = Small with { TextureProbability = 1.0 };
        var cue = ShapesDataset.Create(ShapesSplit.CueConflict, options);
        var test = ShapesDataset.Create(ShapesSplit.Test, options);
        var silhouette = ShapesDataset.Create(ShapesSplit.Silhouette, options);
        Assert.Equal("texture", cue.SecondaryLabelName);
        var textureSeen = new HashSet<(int, int)>();
        for (int i = 0; i < cue.Count; i++)
        {
            int shape = cue.Label(i), texture = cue.SecondaryLabel(i);
            Assert.NotEqual(shape, texture);
            textureSeen.Add((shape, texture));
            var spec = cue.Spec(i);
            Assert.Equal((shape, texture), (spec.ShapeClass, spec.TextureClass));

            // The mask is the test image's shape (the label's class), pixel for pixel.
            Assert.True(cue.Mask(i).SequenceEqual(test.Mask(i)), $"image {i}: mask differs from the test image's");
            Assert.True(cue.Mask(i).SequenceEqual(silhouette.Mask(i)), $"image {i}: mask differs from the silhouette's");
            Assert.Equal(shape, test.Label(i));

            // Inside the mask the pixels are texture b's: the texture-only rendering of b matches,
            // the one of the label's own texture does not.
            var ofTexture = Render(spec with { Fill = ShapeFill.TextureOnly }, 32, out _);
            var ofOwn = Render(spec with { Fill = ShapeFill.TextureOnly, TextureClass = shape }, 32, out _);
            Render(spec, 32, out var coverage);
            var pixels = cue.RawImage(i);
            int inside = 0, ownDiffers = 0;
            for (int p = 0; p < coverage.Length; p++)
            {
                if (coverage[p] != 1f) continue;
                inside++;
                bool ownMatches = true;
                for (int c = 0; c < 3; c++)
                {
                    Assert.Equal(ofTexture[c * 1024 + p], pixels[c * 1024 + p]);
                    ownMatches &= ofOwn[c * 1024 + p] == pixels[c * 1024 + p];
                }
                if (!ownMatches) ownDiffers++;
            }
            Assert.True(inside >= 20, $"image {i}: only {inside} pixels inside the shape");
            Assert.True(ownDiffers > inside / 5, $"image {i}: the label's own texture matches {inside - ownDiffers} of {inside} pixels");
        }
        Assert.True(textureSeen.Count > 30, $"only {textureSeen.Count} (shape, texture) pairs in 60 images");
    }

    [Fact]
    public void MasksOfDifferentShapesInTheSamePose_Differ()
    {
        var spec = ShapesDataset.MakeSpec(Small, ShapesSplit.Test, 0) with { CenterX = 16, CenterY = 16, Radius = 12, Rotation = 0.3f };
        var masks = Enumerable.Range(0, 10).Select(c =>
        {
            Render(spec with { ShapeClass = c }, 32, out var coverage);
            return coverage;
        }).ToArray();
        for (int a = 0; a < 10; a++)
        {
            float area = masks[a].Sum();
            Assert.True(area > 60, $"{ShapeGeometry.Names[a]} covers only {area} pixels at radius 12");
            Assert.Contains(masks[a], v => v > 0 && v < 1);
            for (int b = a + 1; b < 10; b++)
            {
                float intersection = masks[a].Zip(masks[b], Math.Min).Sum();
                float union = masks[a].Zip(masks[b], Math.Max).Sum();
                Assert.True(intersection / union < 0.9f, $"{ShapeGeometry.Names[a]} and {ShapeGeometry.Names[b]} overlap {intersection / union:P0}");
            }
        }
    }

    [Fact]
    public void TexturesDiffer_AndDoNotDependOnTheShape()
    {
        var spec = ShapesDataset.MakeSpec(Small, ShapesSplit.Test, 3) with { Fill = ShapeFill.TextureOnly };
        var textures = Enumerable.Range(0, 10).Select(t => Render(spec with { TextureClass = t }, 32, out _)).ToArray();
        for (int a = 0; a < 10; a++)
            for (int b = a + 1; b < 10; b++)
            {
                int differ = textures[a].Zip(textures[b]).Count(p => Math.Abs(p.First - p.Second) > 20);
                Assert.True(differ > 300, $"{TextureFunctions.Names[a]} vs {TextureFunctions.Names[b]}: {differ} values differ");
            }
        Assert.Equal(textures[4], Render(spec with { TextureClass = 4, ShapeClass = 9 }, 32, out _));
    }

    [Fact]
    public void Silhouette_IsFlatInside_TextureOnly_HasNoShape()
    {
        var silhouette = ShapesDataset.Create(ShapesSplit.Silhouette, Small);
        var textureOnly = ShapesDataset.Create(ShapesSplit.TextureOnly, Small);
        Assert.Null(silhouette.SecondaryLabelName);
        Assert.Equal(-1, silhouette.SecondaryLabel(0));
        for (int i = 0; i < silhouette.Count; i++)
        {
            Render(silhouette.Spec(i), 32, out var coverage);
            var pixels = silhouette.RawImage(i).ToArray();
            var inside = Enumerable.Range(0, 1024).Where(p => coverage[p] == 1f).Select(p => (pixels[p], pixels[1024 + p], pixels[2048 + p])).Distinct().ToArray();
            Assert.Single(inside);
            Assert.All(textureOnly.Mask(i).ToArray(), m => Assert.Equal(255, m));
            Assert.Equal(textureOnly.Spec(i).ShapeClass, textureOnly.Spec(i).TextureClass);
            Assert.Equal(textureOnly.Label(i), textureOnly.Spec(i).TextureClass);
        }
    }

    [Fact]
    public void SizeOption_ChangesTheImageSize_AndBadOptionsThrow()
    {
        var big = ShapesDataset.Create(ShapesSplit.Test, new ShapesOptions { Size = 48, TestCount = 10 });
        Assert.Equal((3, 48, 48), (big.Channels, big.Height, big.Width));
        Assert.Equal(48 * 48, big.Mask(0).Length);
        Assert.Throws<ArgumentException>(() => ShapesDataset.Create(ShapesSplit.Test, new ShapesOptions { Size = 4 }));
        Assert.Throws<ArgumentException>(() => ShapesDataset.Create(ShapesSplit.Test, new ShapesOptions { TextureProbability = 1.5 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => big.Label(10));
    }

    [Fact]
    public void Catalog_LoadsEveryShapesSplit()
    {
        var options = Small with { TrainCount = 10, TestCount = 10 };
        foreach (var split in DataCatalog.Splits("shapes", 32))
        {
            var data = DataCatalog.Load("shapes", split, shapes: options);
            Assert.Equal(split, data.Split);
            Assert.Equal(split == "train" ? 10 : 10, data.Count);
            Assert.Equal(3, data.Channels);
        }
        Assert.Contains("unknown split", Assert.Throws<ArgumentException>(() => DataCatalog.Load("shapes", "validation", shapes: options)).Message);
    }
}
