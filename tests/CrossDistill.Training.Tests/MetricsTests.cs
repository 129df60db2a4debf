using CrossDistill.Training.Metrics;

namespace CrossDistill.Training.Tests;

public class MetricsTests
{
    [Fact]
    public void TopKAndConfusionMatrix()
    {
        var m = new ClassificationMetrics(3);
        m.Add(new float[] { 0.7f, 0.2f, 0.1f, 0.1f, 0.3f, 0.6f, 0.2f, 0.5f, 0.3f }, new long[] { 0, 1, 1 });
        Assert.Equal(2.0 / 3, m.TopK(1), 12);
        Assert.Equal(1.0, m.TopK(2), 12);
        var cm = m.ConfusionMatrix();
        Assert.Equal(1, cm[0, 0]);
        Assert.Equal(1, cm[1, 2]);
        Assert.Equal(1, cm[1, 1]);
    }

    [Fact]
    public void BinaryAurocHandlesTiesLikeTheTrapezoidalRule()
    {
        // Worked by hand: positives {0.8, 0.4}, negatives {0.4, 0.1}: pairs (0.8>0.4, 0.8>0.1, 0.4=0.4 → ½, 0.4>0.1) = 3.5 / 4.
        Assert.Equal(0.875, Auroc.Binary(new[] { 0.8, 0.4, 0.4, 0.1 }, new[] { true, true, false, false }), 12);
        Assert.True(double.IsNaN(Auroc.Binary(new[] { 0.1, 0.2 }, new[] { true, true })));
    }
}
