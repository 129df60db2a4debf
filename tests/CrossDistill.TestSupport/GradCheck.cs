namespace CrossDistill.TestSupport;

/// <summary>
/// Finite-difference gradient checks in float32: compares autograd's gradient of
/// sum(f(x)·w) for a fixed random w with central differences, element by element.
/// </summary>
public static class GradCheck
{
    public static void Check(Func<Tensor[], Tensor> f, Tensor[] inputs, float eps = 1e-2f, float rtol = 2e-2f, float atol = 2e-3f, int maxElements = 64, ulong seed = 7)
    {
        using var scope = DisposeScope.Enter();
        var leaves = inputs.Select(x => { var l = x.Detach(); if (x.DType == DType.Float32) l.RequiresGrad = true; return l; }).ToArray();
        var probe = f(leaves);
        var w = Torch.Randn(probe.Shape, new Generator(seed));
        var loss = (probe * w).Sum();
        loss.Backward();
        var analytic = leaves.Select(l => l.Grad?.Clone()).ToArray();
        foreach (var l in leaves) { l.Grad?.Dispose(); l.Grad = null; }

        for (int i = 0; i < leaves.Length; i++)
        {
            if (inputs[i].DType != DType.Float32) continue;
            var x = inputs[i].Clone().DetachFromScopes();
            var g = analytic[i];
            int n = x.Numel;
            var picks = n <= maxElements ? Enumerable.Range(0, n) : Enumerable.Range(0, maxElements).Select(k => (int)((long)k * n / maxElements));
            var flat = x.Span;
            // x is nudged in storage order, so read the gradient in x's layout too.
            float[] gflat = new float[n];
            if (g is not null)
            {
                using var inLayout = Torch.EmptyLike(x).CopyFrom(g);
                gflat = inLayout.Span.ToArray();
            }
            foreach (int k in picks)
            {
                float orig = flat[k];
                flat[k] = orig + eps;
                double up = Evaluate(f, inputs, i, x, w);
                flat[k] = orig - eps;
                double down = Evaluate(f, inputs, i, x, w);
                flat[k] = orig;
                double numeric = (up - down) / (2 * eps);
                double err = Math.Abs(numeric - gflat[k]);
                Assert.True(err <= atol + rtol * Math.Abs(numeric),
                    $"input {i}, element {k}: autograd {gflat[k]}, finite difference {numeric}");
            }
            x.Dispose();
        }
    }

    private static double Evaluate(Func<Tensor[], Tensor> f, Tensor[] inputs, int replaced, Tensor x, Tensor w)
    {
        using var _ = GradMode.NoGrad();
        using var scope = DisposeScope.Enter();
        var args = inputs.Select((t, j) => j == replaced ? x.Detach() : t).ToArray();
        var y = f(args);
        var yv = y.ToArray();
        var wv = w.ToArray();
        double s = 0;
        for (int k = 0; k < yv.Length; k++) s += (double)yv[k] * wv[k];
        return s;
    }
}
