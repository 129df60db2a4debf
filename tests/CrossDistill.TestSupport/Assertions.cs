namespace CrossDistill.TestSupport;

public static class TensorAssert
{
    /// <summary>|actual - expected| ≤ atol + rtol·|expected| elementwise, with NaNs matching NaNs.</summary>
    public static void Close(Tensor expected, Tensor actual, float rtol = 1e-5f, float atol = 1e-6f, string what = "")
    {
        Assert.True(expected.Shape.AsSpan().SequenceEqual(actual.Shape),
            $"{what}: shape {ShapeUtil.Format(actual.Shape)}, expected {ShapeUtil.Format(expected.Shape)}");
        if (expected.DType == DType.Int64 || actual.DType == DType.Int64)
        {
            Assert.Equal(expected.ToLongArray(), actual.ToLongArray());
            return;
        }
        var e = expected.ToArray();
        var a = actual.ToArray();
        int bad = 0;
        int first = -1;
        double worst = 0;
        for (int i = 0; i < e.Length; i++)
        {
            if (float.IsNaN(e[i]) && float.IsNaN(a[i])) continue;
            if (float.IsInfinity(e[i]) && e[i] == a[i]) continue;
            double err = Math.Abs((double)a[i] - e[i]);
            double allowed = atol + rtol * Math.Abs(e[i]);
            if (!(err <= allowed))
            {
                bad++;
                if (first < 0) first = i;
                worst = Math.Max(worst, err / Math.Max(allowed, 1e-30));
            }
        }
        Assert.True(bad == 0, $"{what}: {bad}/{e.Length} elements differ; first at flat index {first}: got {(first >= 0 ? a[first] : 0)}, expected {(first >= 0 ? e[first] : 0)}; worst error is {worst:F1}× the tolerance");
    }

    public static void Close(float[] expected, Tensor actual, float rtol = 1e-5f, float atol = 1e-6f, string what = "")
        => Close(Torch.FromArray(expected, actual.Shape), actual, rtol, atol, what);
}
