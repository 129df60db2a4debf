using System.Runtime.Intrinsics;
using CrossDistill.Engine.Kernels;

namespace CrossDistill.Engine.Tests.Ops;

/// <summary>
/// Accuracy of the float special functions against double references, through each body:
/// the scalar one, Vector256 and Vector512 called directly, and the tensor op (which runs the
/// widest body the machine has plus the tails).
/// </summary>
public class SpecialFunctionTests
{
    /// <summary>erf(x) = 2/√π·e^(-x²)·Σ 2ⁿx^(2n+1)/(1·3·…·(2n+1)): every term positive, so no cancellation.</summary>
    private static double ErfReference(double x)
    {
        double a = Math.Abs(x);
        if (a > 6) return Math.Sign(x);
        double term = a, sum = a;
        for (int n = 1; n < 1000 && term > 1e-18 * sum; n++)
        {
            term *= 2 * a * a / (2 * n + 1);
            sum += term;
        }
        return Math.CopySign(2 / Math.Sqrt(Math.PI) * Math.Exp(-a * a) * sum, x);
    }

    /// <summary>erfc(z) for z ≥ 0: 1 - erf below 2, the continued fraction e^(-z²)/√π / (z + ½/(z + 1/(z + 3/2/(z + …)))) above.</summary>
    private static double ErfcReference(double z)
    {
        if (z < 2) return 1 - ErfReference(z);
        double f = 0;
        for (int k = 400; k >= 1; k--) f = k / 2.0 / (z + f);
        return Math.Exp(-z * z) / Math.Sqrt(Math.PI) / (z + f);
    }

    private static double NormalCdfReference(double x)
        => x < 0 ? 0.5 * ErfcReference(-x / Math.Sqrt(2)) : 1 - 0.5 * ErfcReference(x / Math.Sqrt(2));

    /// <summary>Dense grid, random points and hand-picked ones (zero, tiny, the series/tail switch at 0.5, saturation).</summary>
    private static float[] Points(float low, float high, int grid, params float[] extra)
    {
        var g = new Generator(99);
        var list = new List<float>();
        for (int i = 0; i <= grid; i++) list.Add(low + (high - low) * i / grid);
        for (int i = 0; i < grid; i++) list.Add(low + (high - low) * g.NextFloat());
        list.AddRange(extra);
        return list.ToArray();
    }

    /// <summary>Evaluates a float function through the scalar, Vector256 and Vector512 bodies.</summary>
    private static (float[] Scalar, float[] V256, float[] V512) AllBodies(float[] xs, Func<float, float> scalar,
        Func<Vector256<float>, Vector256<float>> v256, Func<Vector512<float>, Vector512<float>> v512)
    {
        var s = xs.Select(scalar).ToArray();
        var a = new float[xs.Length];
        var b = new float[xs.Length];
        var padded = xs.Concat(new float[16]).ToArray();
        for (int i = 0; i < xs.Length; i += 8)
        {
            var r = v256(Vector256.Create(padded, i));
            for (int k = 0; k < 8 && i + k < xs.Length; k++) a[i + k] = r[k];
        }
        for (int i = 0; i < xs.Length; i += 16)
        {
            var r = v512(Vector512.Create(padded, i));
            for (int k = 0; k < 16 && i + k < xs.Length; k++) b[i + k] = r[k];
        }
        return (s, a, b);
    }

    private static double[] Reference(float[] xs, Func<double, double> f) => xs.Select(x => f(x)).ToArray();

    private static void AssertAbsolute(float[] xs, float[] actual, double[] reference, double tolerance, string what)
    {
        double worst = 0;
        float worstAt = 0;
        for (int i = 0; i < xs.Length; i++)
        {
            double err = Math.Abs(actual[i] - reference[i]);
            if (!(err <= worst)) { worst = err; worstAt = xs[i]; }
        }
        Assert.True(worst < tolerance, $"{what}: worst absolute error {worst:E3} at x = {worstAt:R} (allowed {tolerance:E1})");
    }

    private static void AssertRelative(float[] xs, float[] actual, double[] reference, double tolerance, double floor, string what)
    {
        double worst = 0;
        float worstAt = 0;
        for (int i = 0; i < xs.Length; i++)
        {
            double expected = reference[i];
            if (Math.Abs(expected) < floor) continue;
            double err = Math.Abs(actual[i] - expected) / Math.Abs(expected);
            if (!(err <= worst)) { worst = err; worstAt = xs[i]; }
        }
        Assert.True(worst < tolerance, $"{what}: worst relative error {worst:E3} at x = {worstAt:R} (allowed {tolerance:E1})");
    }

    [Fact]
    public void ErfIsWithin2e7OfTheSeriesEverywhere()
    {
        var xs = Points(-7f, 7f, 100_000, 0f, -0f, 1e-8f, -1e-30f, 0.49999997f, 0.5f, 0.50000006f, 3.9f, 4f, 10f, -10f, 1e20f);
        var reference = Reference(xs, ErfReference);
        var (s, v256, v512) = AllBodies(xs, SpecialFunctions.Erf, SpecialFunctions.Erf, SpecialFunctions.Erf);
        AssertAbsolute(xs, s, reference, 2e-7, "scalar erf");
        AssertAbsolute(xs, v256, reference, 2e-7, "Vector256 erf");
        AssertAbsolute(xs, v512, reference, 2e-7, "Vector512 erf");
        using var t = Torch.FromArray(xs, xs.Length);
        using var y = Torch.Erf(t);
        AssertAbsolute(xs, y.ToArray(), reference, 2e-7, "Torch.Erf");
        // Near zero erf keeps its relative accuracy (the series branch).
        var small = Points(-0.5f, 0.5f, 20_000, 1e-30f, -3e-12f, 1e-6f);
        var smallReference = Reference(small, ErfReference);
        foreach (var (name, values) in Bodies(AllBodies(small, SpecialFunctions.Erf, SpecialFunctions.Erf, SpecialFunctions.Erf)))
            AssertRelative(small, values, smallReference, 2e-7, 1e-38, name + " erf near 0");
    }

    [Fact]
    public void ErfHandlesSpecialValues()
    {
        Assert.Equal(1f, SpecialFunctions.Erf(float.PositiveInfinity));
        Assert.Equal(-1f, SpecialFunctions.Erf(float.NegativeInfinity));
        Assert.True(float.IsNaN(SpecialFunctions.Erf(float.NaN)));
        var v = SpecialFunctions.Erf(Vector512.Create(float.NaN, float.PositiveInfinity, float.NegativeInfinity, -0f, 0f, 1f, 1f, 1f, 1f, 1f, 1f, 1f, 1f, 1f, 1f, 1f));
        Assert.True(float.IsNaN(v[0]));
        Assert.Equal(1f, v[1]);
        Assert.Equal(-1f, v[2]);
        Assert.Equal(0f, v[3]);
        Assert.True(float.IsNegative(v[3]));
    }

    [Fact]
    public void ExactGeluKeepsRelativeAccuracyIntoTheNegativeTail()
    {
        var xs = Points(-13f, 8f, 30_000, 0f, 1e-6f, -1e-6f, -10f, -12.5f);
        var cdf = Reference(xs, NormalCdfReference);
        var gelu = xs.Select((x, i) => x * cdf[i]).ToArray();
        var derivative = xs.Select((x, i) => cdf[i] + x * Math.Exp(-(double)x * x / 2) / Math.Sqrt(2 * Math.PI)).ToArray();
        foreach (var (name, values) in Bodies(AllBodies(xs, SpecialFunctions.Gelu, SpecialFunctions.Gelu, SpecialFunctions.Gelu)))
            AssertRelative(xs, values, gelu, 3e-7, 1e-36, name + " gelu");
        foreach (var (name, values) in Bodies(AllBodies(xs, SpecialFunctions.GeluDerivative, SpecialFunctions.GeluDerivative, SpecialFunctions.GeluDerivative)))
            AssertAbsolute(xs, values, derivative, 2e-7, name + " gelu derivative");
    }

    [Fact]
    public void TanhExpm1AndLog1pExpAreAccurateToAFewUlps()
    {
        var xs = Points(-12f, 12f, 50_000, 0f, 1e-30f, -1e-7f, 9.9e-5f, 1.01e-4f, 1e-5f, -1e-5f, 3e-4f, 80f, -80f, -105f);
        Func<double, double> expm1 = x => Math.Abs(x) < 1e-5 ? x + x * x / 2 + x * x * x / 6 : Math.Exp(x) - 1;
        Func<double, double> log1p = q => q < 1e-5 ? q - q * q / 2 + q * q * q / 3 : Math.Log(1 + q);
        Func<double, double> log1pExp = z => z > 0 ? z + log1p(Math.Exp(-z)) : log1p(Math.Exp(z));
        foreach (var (name, values) in Bodies(AllBodies(xs, SpecialFunctions.Tanh, SpecialFunctions.Tanh, SpecialFunctions.Tanh)))
            AssertRelative(xs, values, Reference(xs, Math.Tanh), 2e-7, 1e-37, name + " tanh");
        foreach (var (name, values) in Bodies(AllBodies(xs, SpecialFunctions.Expm1, SpecialFunctions.Expm1, SpecialFunctions.Expm1)))
            AssertRelative(xs, values, Reference(xs, expm1), 2e-7, 1e-37, name + " expm1");
        foreach (var (name, values) in Bodies(AllBodies(xs, SpecialFunctions.Log1pExp, SpecialFunctions.Log1pExp, SpecialFunctions.Log1pExp)))
            AssertRelative(xs, values, Reference(xs, log1pExp), 2e-7, 1e-37, name + " log(1+exp)");
    }

    [Fact]
    public void PowMatchesDoublePowIncludingSignsAndSpecialCases()
    {
        var g = new Generator(5);
        int n = 20_000;
        var xs = new float[n];
        var es = new float[n];
        for (int i = 0; i < n; i++)
        {
            xs[i] = (g.NextFloat() - 0.5f) * 20f;
            es[i] = i % 3 == 0 ? g.NextInt(9) - 4 : (g.NextFloat() - 0.5f) * 8f;
        }
        float[] special = { 0f, -0f, -0f, float.NaN, 1f, -2f, -8f, float.PositiveInfinity, float.NegativeInfinity, float.NegativeInfinity, 0f, -1f };
        float[] specialExp = { -1f, -1f, 3f, 0f, float.NaN, 3f, 1f / 3f, -2f, 0.5f, 3f, 0f, float.PositiveInfinity };
        xs = xs.Concat(special).ToArray();
        es = es.Concat(specialExp).ToArray();
        using var x = Torch.FromArray(xs, xs.Length);
        using var e = Torch.FromArray(es, es.Length);
        using var y = Torch.Pow(x, e);
        var actual = y.ToArray();
        for (int i = 0; i < xs.Length; i++)
        {
            double expected = Math.Pow(xs[i], es[i]);
            if (double.IsNaN(expected)) Assert.True(float.IsNaN(actual[i]), $"pow({xs[i]}, {es[i]}) = {actual[i]}, expected NaN");
            else if (double.IsInfinity(expected) || expected == 0) Assert.Equal((float)expected, actual[i]);
            else if (Math.Abs(expected) > 1e-37 && Math.Abs(expected) < 3e38)
                Assert.True(Math.Abs(actual[i] - expected) <= 2e-7 * Math.Abs(expected), $"pow({xs[i]}, {es[i]}) = {actual[i]}, expected {expected}");
        }
        Assert.True(float.IsNegative(actual[n + 2]), "pow(-0, 3) keeps the sign");
        Assert.Equal(float.NegativeInfinity, actual[n + 1]);
    }

    private static IEnumerable<(string, float[])> Bodies((float[] S, float[] A, float[] B) r)
        => new[] { ("scalar", r.S), ("Vector256", r.A), ("Vector512", r.B) };
}
