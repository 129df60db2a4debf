using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace CrossDistill.Engine.Kernels;

/// <summary>
/// Float functions that System.Numerics.Tensors and Vector512 lack (erf, the exact GELU, tanh, expm1,
/// log(1+eˣ), pow), each with a scalar, a Vector256 and a Vector512 body. They widen to double
/// internally: float formulas for these lose digits to cancellation (1 - erfc, eˣ - 1, …), while
/// in double the same formulas stay accurate to well below a float ulp, and AVX-512 double math
/// costs only about twice the float version.
/// </summary>
public static class SpecialFunctions
{
    // erfc(z) = exp(-z²)·H(t) with t = 1/(1 + 0.4z) for z ≥ 0. H is a degree-12 polynomial fitted
    // by Chebyshev least squares to erfcx(z) = exp(z²)·erfc(z) on z in [0, 10] (the range where an
    // erfc of x/√2 can still be a non-zero float); its relative error there is below 1.2e-10.
    private const double ErfcScale = 0.4;
    private const double H0 = 2.7068854163703193e-07, H1 = 0.2256639357228417, H2 = 0.22589216625021144,
        H3 = 0.20539627224997062, H4 = 0.18619215758589544, H5 = 0.05562364150376044, H6 = 0.2760928854595571,
        H7 = -0.45345128404159174, H8 = 0.7344720906845605, H9 = -0.8302981705256693, H10 = 0.5233824020517936,
        H11 = -0.17270487685053915, H12 = 0.023738509235147514;

    // erf(x) = x·T(x²) for |x| < 0.5: the Maclaurin series 2/√π·Σ (-1)ⁿ x²ⁿ⁺¹/(n!(2n+1)), whose
    // truncation error there is below 1e-14. It keeps erf's relative accuracy near zero, which 1 - erfc loses.
    private const double T0 = 1.1283791670955126, T1 = -0.37612638903183754, T2 = 0.11283791670955126,
        T3 = -0.026866170645131252, T4 = 0.005223977625442188, T5 = -0.0008548327023450853, T6 = 0.00012055332981789664,
        T7 = -1.492565035840625e-05, T8 = 1.6462114365889248e-06, T9 = -1.6365844691234924e-07;

    private const double SeriesLimit = 0.5;
    private const double InvSqrt2 = 0.70710678118654752440;
    private const double InvSqrt2Pi = 0.39894228040143267794;

    // Below these |x| the leading Taylor terms are exact to double precision, and the closed forms
    // (1 - e)/(1 + e), eˣ - 1 and log(1 + q) lose digits to cancellation.
    private const double TanhLinearLimit = 1e-4;
    private const double Expm1TaylorLimit = 1e-5;

    // ---------------------------------------------------------------- erf

    public static float Erf(float x) => (float)Erf((double)x);

    public static Vector256<float> Erf(Vector256<float> x)
    {
        var (lo, hi) = Vector256.Widen(x);
        return Vector256.Narrow(Erf(lo), Erf(hi));
    }

    public static Vector512<float> Erf(Vector512<float> x)
    {
        var (lo, hi) = Vector512.Widen(x);
        return Vector512.Narrow(Erf(lo), Erf(hi));
    }

    public static double Erf(double x)
    {
        double a = Math.Abs(x);
        if (a < SeriesLimit) return x * SeriesPoly(x * x);
        double erfc = Math.Exp(-a * a) * ErfcPoly(1.0 / (1.0 + ErfcScale * a));
        return Math.CopySign(1.0 - erfc, x);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<double> Erf(Vector512<double> x)
    {
        var one = Vector512<double>.One;
        var a = Vector512.Abs(x);
        var s = x * x;
        var series = x * SeriesPoly(s);
        var erfc = Vector512.Exp(-s) * ErfcPoly(one / Vector512.FusedMultiplyAdd(Vector512.Create(ErfcScale), a, one));
        var tail = Vector512.CopySign(one - erfc, x);
        return Vector512.ConditionalSelect(Vector512.LessThan(a, Vector512.Create(SeriesLimit)), series, tail);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<double> Erf(Vector256<double> x)
    {
        var one = Vector256<double>.One;
        var a = Vector256.Abs(x);
        var s = x * x;
        var series = x * SeriesPoly(s);
        var erfc = Vector256.Exp(-s) * ErfcPoly(one / Vector256.FusedMultiplyAdd(Vector256.Create(ErfcScale), a, one));
        var tail = Vector256.CopySign(one - erfc, x);
        return Vector256.ConditionalSelect(Vector256.LessThan(a, Vector256.Create(SeriesLimit)), series, tail);
    }

    // ---------------------------------------------------------------- exact GELU: x·Φ(x), Φ(x) = erfc(-x/√2)/2

    /// <summary>x·Φ(x). For x &lt; 0, Φ comes from erfc directly, so it keeps its relative accuracy far into the tail.</summary>
    public static float Gelu(float x)
    {
        double xd = x, z = xd * InvSqrt2;
        double half = 0.5 * Math.Exp(-z * z) * ErfcPoly(1.0 / (1.0 + ErfcScale * Math.Abs(z)));
        return (float)(xd * (xd < 0 ? half : 1.0 - half));
    }

    /// <summary>d/dx x·Φ(x) = Φ(x) + x·φ(x), with one exponential shared by both terms.</summary>
    public static float GeluDerivative(float x)
    {
        double xd = x, z = xd * InvSqrt2;
        double e = Math.Exp(-z * z);
        double half = 0.5 * e * ErfcPoly(1.0 / (1.0 + ErfcScale * Math.Abs(z)));
        return (float)((xd < 0 ? half : 1.0 - half) + xd * e * InvSqrt2Pi);
    }

    public static Vector512<float> Gelu(Vector512<float> x)
    {
        var (lo, hi) = Vector512.Widen(x);
        return Vector512.Narrow(lo * NormalCdf(lo, out _), hi * NormalCdf(hi, out _));
    }

    public static Vector256<float> Gelu(Vector256<float> x)
    {
        var (lo, hi) = Vector256.Widen(x);
        return Vector256.Narrow(lo * NormalCdf(lo, out _), hi * NormalCdf(hi, out _));
    }

    public static Vector512<float> GeluDerivative(Vector512<float> x)
    {
        var (lo, hi) = Vector512.Widen(x);
        var c = Vector512.Create(InvSqrt2Pi);
        var dlo = NormalCdf(lo, out var elo) + lo * elo * c;
        var dhi = NormalCdf(hi, out var ehi) + hi * ehi * c;
        return Vector512.Narrow(dlo, dhi);
    }

    public static Vector256<float> GeluDerivative(Vector256<float> x)
    {
        var (lo, hi) = Vector256.Widen(x);
        var c = Vector256.Create(InvSqrt2Pi);
        var dlo = NormalCdf(lo, out var elo) + lo * elo * c;
        var dhi = NormalCdf(hi, out var ehi) + hi * ehi * c;
        return Vector256.Narrow(dlo, dhi);
    }

    /// <summary>Φ(x); <paramref name="gaussian"/> receives exp(-x²/2).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<double> NormalCdf(Vector512<double> x, out Vector512<double> gaussian)
    {
        var one = Vector512<double>.One;
        var z = x * Vector512.Create(InvSqrt2);
        gaussian = Vector512.Exp(-(z * z));
        var half = Vector512.Create(0.5) * gaussian * ErfcPoly(one / Vector512.FusedMultiplyAdd(Vector512.Create(ErfcScale), Vector512.Abs(z), one));
        return Vector512.ConditionalSelect(Vector512.LessThan(x, Vector512<double>.Zero), half, one - half);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<double> NormalCdf(Vector256<double> x, out Vector256<double> gaussian)
    {
        var one = Vector256<double>.One;
        var z = x * Vector256.Create(InvSqrt2);
        gaussian = Vector256.Exp(-(z * z));
        var half = Vector256.Create(0.5) * gaussian * ErfcPoly(one / Vector256.FusedMultiplyAdd(Vector256.Create(ErfcScale), Vector256.Abs(z), one));
        return Vector256.ConditionalSelect(Vector256.LessThan(x, Vector256<double>.Zero), half, one - half);
    }

    // ---------------------------------------------------------------- tanh

    public static float Tanh(float x) => (float)Math.Tanh(x);

    public static Vector512<float> Tanh(Vector512<float> x)
    {
        var (lo, hi) = Vector512.Widen(x);
        return Vector512.Narrow(Tanh(lo), Tanh(hi));
    }

    public static Vector256<float> Tanh(Vector256<float> x)
    {
        var (lo, hi) = Vector256.Widen(x);
        return Vector256.Narrow(Tanh(lo), Tanh(hi));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<double> Tanh(Vector512<double> x)
    {
        var one = Vector512<double>.One;
        var a = Vector512.Abs(x);
        var e = Vector512.Exp(a * Vector512.Create(-2.0));
        var t = (one - e) / (one + e);
        return Vector512.CopySign(Vector512.ConditionalSelect(Vector512.LessThan(a, Vector512.Create(TanhLinearLimit)), a, t), x);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<double> Tanh(Vector256<double> x)
    {
        var one = Vector256<double>.One;
        var a = Vector256.Abs(x);
        var e = Vector256.Exp(a * Vector256.Create(-2.0));
        var t = (one - e) / (one + e);
        return Vector256.CopySign(Vector256.ConditionalSelect(Vector256.LessThan(a, Vector256.Create(TanhLinearLimit)), a, t), x);
    }

    // ---------------------------------------------------------------- expm1

    public static float Expm1(float x)
    {
        double d = x;
        return (float)(Math.Abs(d) < Expm1TaylorLimit ? d + 0.5 * d * d : Math.Exp(d) - 1.0);
    }

    public static Vector512<float> Expm1(Vector512<float> x)
    {
        var (lo, hi) = Vector512.Widen(x);
        return Vector512.Narrow(Expm1(lo), Expm1(hi));
    }

    public static Vector256<float> Expm1(Vector256<float> x)
    {
        var (lo, hi) = Vector256.Widen(x);
        return Vector256.Narrow(Expm1(lo), Expm1(hi));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<double> Expm1(Vector512<double> x)
    {
        var taylor = Vector512.FusedMultiplyAdd(Vector512.Create(0.5) * x, x, x);
        var direct = Vector512.Exp(x) - Vector512<double>.One;
        return Vector512.ConditionalSelect(Vector512.LessThan(Vector512.Abs(x), Vector512.Create(Expm1TaylorLimit)), taylor, direct);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<double> Expm1(Vector256<double> x)
    {
        var taylor = Vector256.FusedMultiplyAdd(Vector256.Create(0.5) * x, x, x);
        var direct = Vector256.Exp(x) - Vector256<double>.One;
        return Vector256.ConditionalSelect(Vector256.LessThan(Vector256.Abs(x), Vector256.Create(Expm1TaylorLimit)), taylor, direct);
    }

    // ---------------------------------------------------------------- log(1 + eˣ)

    /// <summary>log(1 + eˣ) as max(x, 0) + log1p(e^-|x|): no overflow for large x, no underflow to 0 for very negative x.</summary>
    public static float Log1pExp(float x)
    {
        double d = x;
        double q = Math.Exp(-Math.Abs(d));
        double l = q < Expm1TaylorLimit ? q - 0.5 * q * q : Math.Log(1.0 + q);
        return (float)(Math.Max(d, 0.0) + l);
    }

    public static Vector512<float> Log1pExp(Vector512<float> x)
    {
        var (lo, hi) = Vector512.Widen(x);
        return Vector512.Narrow(Log1pExp(lo), Log1pExp(hi));
    }

    public static Vector256<float> Log1pExp(Vector256<float> x)
    {
        var (lo, hi) = Vector256.Widen(x);
        return Vector256.Narrow(Log1pExp(lo), Log1pExp(hi));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<double> Log1pExp(Vector512<double> x)
    {
        var q = Vector512.Exp(-Vector512.Abs(x));
        var small = Vector512.FusedMultiplyAdd(Vector512.Create(-0.5) * q, q, q);
        var l = Vector512.ConditionalSelect(Vector512.LessThan(q, Vector512.Create(Expm1TaylorLimit)), small, Vector512.Log(Vector512<double>.One + q));
        return Vector512.Max(x, Vector512<double>.Zero) + l;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<double> Log1pExp(Vector256<double> x)
    {
        var q = Vector256.Exp(-Vector256.Abs(x));
        var small = Vector256.FusedMultiplyAdd(Vector256.Create(-0.5) * q, q, q);
        var l = Vector256.ConditionalSelect(Vector256.LessThan(q, Vector256.Create(Expm1TaylorLimit)), small, Vector256.Log(Vector256<double>.One + q));
        return Vector256.Max(x, Vector256<double>.Zero) + l;
    }

    // ---------------------------------------------------------------- pow

    /// <summary>xᵉ with C's pow rules: a finite negative base needs an integer exponent (else NaN), x⁰ = 1ᵉ = 1 even for NaN.</summary>
    public static float Pow(float x, float e) => (float)Math.Pow(x, e);

    public static Vector512<float> Pow(Vector512<float> x, Vector512<float> e)
    {
        var (xlo, xhi) = Vector512.Widen(x);
        var (elo, ehi) = Vector512.Widen(e);
        return Vector512.Narrow(Pow(xlo, elo), Pow(xhi, ehi));
    }

    public static Vector256<float> Pow(Vector256<float> x, Vector256<float> e)
    {
        var (xlo, xhi) = Vector256.Widen(x);
        var (elo, ehi) = Vector256.Widen(e);
        return Vector256.Narrow(Pow(xlo, elo), Pow(xhi, ehi));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<double> Pow(Vector512<double> x, Vector512<double> e)
    {
        var one = Vector512<double>.One;
        var magnitude = Vector512.Exp(e * Vector512.Log(Vector512.Abs(x)));
        var isInteger = Vector512.Equals(Vector512.Round(e), e);
        var half = e * Vector512.Create(0.5);
        var isOdd = isInteger & ~Vector512.Equals(Vector512.Round(half), half);
        var signed = Vector512.ConditionalSelect(isOdd, Vector512.CopySign(magnitude, x), magnitude);
        var negativeFinite = Vector512.LessThan(x, Vector512<double>.Zero) & ~Vector512.Equals(x, Vector512.Create(double.NegativeInfinity));
        var result = Vector512.ConditionalSelect(negativeFinite & ~isInteger, Vector512.Create(double.NaN), signed);
        var unit = Vector512.Equals(e, Vector512<double>.Zero) | Vector512.Equals(x, one);
        return Vector512.ConditionalSelect(unit, one, result);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<double> Pow(Vector256<double> x, Vector256<double> e)
    {
        var one = Vector256<double>.One;
        var magnitude = Vector256.Exp(e * Vector256.Log(Vector256.Abs(x)));
        var isInteger = Vector256.Equals(Vector256.Round(e), e);
        var half = e * Vector256.Create(0.5);
        var isOdd = isInteger & ~Vector256.Equals(Vector256.Round(half), half);
        var signed = Vector256.ConditionalSelect(isOdd, Vector256.CopySign(magnitude, x), magnitude);
        var negativeFinite = Vector256.LessThan(x, Vector256<double>.Zero) & ~Vector256.Equals(x, Vector256.Create(double.NegativeInfinity));
        var result = Vector256.ConditionalSelect(negativeFinite & ~isInteger, Vector256.Create(double.NaN), signed);
        var unit = Vector256.Equals(e, Vector256<double>.Zero) | Vector256.Equals(x, one);
        return Vector256.ConditionalSelect(unit, one, result);
    }

    // ---------------------------------------------------------------- polynomials

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static double ErfcPoly(double t)
        => H0 + t * (H1 + t * (H2 + t * (H3 + t * (H4 + t * (H5 + t * (H6 + t * (H7 + t * (H8 + t * (H9 + t * (H10 + t * (H11 + t * H12)))))))))));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static double SeriesPoly(double s)
        => T0 + s * (T1 + s * (T2 + s * (T3 + s * (T4 + s * (T5 + s * (T6 + s * (T7 + s * (T8 + s * T9))))))));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<double> ErfcPoly(Vector512<double> t)
    {
        var p = Vector512.Create(H12);
        p = Vector512.FusedMultiplyAdd(p, t, Vector512.Create(H11));
        p = Vector512.FusedMultiplyAdd(p, t, Vector512.Create(H10));
        p = Vector512.FusedMultiplyAdd(p, t, Vector512.Create(H9));
        p = Vector512.FusedMultiplyAdd(p, t, Vector512.Create(H8));
        p = Vector512.FusedMultiplyAdd(p, t, Vector512.Create(H7));
        p = Vector512.FusedMultiplyAdd(p, t, Vector512.Create(H6));
        p = Vector512.FusedMultiplyAdd(p, t, Vector512.Create(H5));
        p = Vector512.FusedMultiplyAdd(p, t, Vector512.Create(H4));
        p = Vector512.FusedMultiplyAdd(p, t, Vector512.Create(H3));
        p = Vector512.FusedMultiplyAdd(p, t, Vector512.Create(H2));
        p = Vector512.FusedMultiplyAdd(p, t, Vector512.Create(H1));
        return Vector512.FusedMultiplyAdd(p, t, Vector512.Create(H0));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<double> ErfcPoly(Vector256<double> t)
    {
        var p = Vector256.Create(H12);
        p = Vector256.FusedMultiplyAdd(p, t, Vector256.Create(H11));
        p = Vector256.FusedMultiplyAdd(p, t, Vector256.Create(H10));
        p = Vector256.FusedMultiplyAdd(p, t, Vector256.Create(H9));
        p = Vector256.FusedMultiplyAdd(p, t, Vector256.Create(H8));
        p = Vector256.FusedMultiplyAdd(p, t, Vector256.Create(H7));
        p = Vector256.FusedMultiplyAdd(p, t, Vector256.Create(H6));
        p = Vector256.FusedMultiplyAdd(p, t, Vector256.Create(H5));
        p = Vector256.FusedMultiplyAdd(p, t, Vector256.Create(H4));
        p = Vector256.FusedMultiplyAdd(p, t, Vector256.Create(H3));
        p = Vector256.FusedMultiplyAdd(p, t, Vector256.Create(H2));
        p = Vector256.FusedMultiplyAdd(p, t, Vector256.Create(H1));
        return Vector256.FusedMultiplyAdd(p, t, Vector256.Create(H0));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<double> SeriesPoly(Vector512<double> s)
    {
        var p = Vector512.Create(T9);
        p = Vector512.FusedMultiplyAdd(p, s, Vector512.Create(T8));
        p = Vector512.FusedMultiplyAdd(p, s, Vector512.Create(T7));
        p = Vector512.FusedMultiplyAdd(p, s, Vector512.Create(T6));
        p = Vector512.FusedMultiplyAdd(p, s, Vector512.Create(T5));
        p = Vector512.FusedMultiplyAdd(p, s, Vector512.Create(T4));
        p = Vector512.FusedMultiplyAdd(p, s, Vector512.Create(T3));
        p = Vector512.FusedMultiplyAdd(p, s, Vector512.Create(T2));
        p = Vector512.FusedMultiplyAdd(p, s, Vector512.Create(T1));
        return Vector512.FusedMultiplyAdd(p, s, Vector512.Create(T0));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<double> SeriesPoly(Vector256<double> s)
    {
        var p = Vector256.Create(T9);
        p = Vector256.FusedMultiplyAdd(p, s, Vector256.Create(T8));
        p = Vector256.FusedMultiplyAdd(p, s, Vector256.Create(T7));
        p = Vector256.FusedMultiplyAdd(p, s, Vector256.Create(T6));
        p = Vector256.FusedMultiplyAdd(p, s, Vector256.Create(T5));
        p = Vector256.FusedMultiplyAdd(p, s, Vector256.Create(T4));
        p = Vector256.FusedMultiplyAdd(p, s, Vector256.Create(T3));
        p = Vector256.FusedMultiplyAdd(p, s, Vector256.Create(T2));
        p = Vector256.FusedMultiplyAdd(p, s, Vector256.Create(T1));
        return Vector256.FusedMultiplyAdd(p, s, Vector256.Create(T0));
    }
}
