namespace CrossDistill.Engine.Nn;

public enum FanMode { FanIn, FanOut }

/// <summary>The activation that follows a layer, for <see cref="Init.CalculateGain"/>.</summary>
public enum Nonlinearity { Linear, Conv1d, Conv2d, Conv3d, ConvTranspose1d, ConvTranspose2d, ConvTranspose3d, Sigmoid, Tanh, Relu, LeakyRelu, Selu }

/// <summary>
/// In-place initialisers with torch.nn.init's semantics (bounds, standard deviations, fan
/// computation), drawing from a <see cref="Generator"/> (by default <see cref="Generator.Default"/>).
/// Values are drawn in row-major order of the shape whatever the tensor's layout, so a seed gives
/// the same weights for a contiguous and a channels-last tensor. Each returns its tensor.
/// </summary>
public static class Init
{
    /// <summary>torch.nn.init.calculate_gain: the factor that keeps activations' variance steady.</summary>
    public static double CalculateGain(Nonlinearity nonlinearity, double? param = null) => nonlinearity switch
    {
        Nonlinearity.Tanh => 5.0 / 3,
        Nonlinearity.Relu => Math.Sqrt(2.0),
        Nonlinearity.LeakyRelu => Math.Sqrt(2.0 / (1 + Math.Pow(param ?? 0.01, 2))),
        Nonlinearity.Selu => 3.0 / 4,
        _ => 1,
    };

    /// <summary>
    /// torch.nn.init._calculate_fan_in_and_fan_out: for a weight of shape (out, in, k…), fan_in =
    /// in·∏k and fan_out = out·∏k.
    /// </summary>
    public static (int FanIn, int FanOut) CalculateFanInAndFanOut(Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        if (tensor.Rank < 2)
            throw new ArgumentException($"Init: fan in and fan out can not be computed for a tensor with fewer than 2 dimensions (shape {ShapeUtil.Format(tensor.Shape)}).", nameof(tensor));
        long receptive = 1;
        for (int i = 2; i < tensor.Rank; i++) receptive *= tensor.Shape[i];
        return (checked((int)(tensor.Shape[1] * receptive)), checked((int)(tensor.Shape[0] * receptive)));
    }

    public static Tensor Uniform_(Tensor tensor, double low = 0, double high = 1, Generator? generator = null)
    {
        if (!(low <= high)) throw new ArgumentException($"Init.Uniform_: low {low} is above high {high}.");
        return Fill(tensor, nameof(Uniform_), new UniformSampler(low, high), generator);
    }

    public static Tensor Normal_(Tensor tensor, double mean = 0, double std = 1, Generator? generator = null)
    {
        if (!(std >= 0)) throw new ArgumentException($"Init.Normal_: std {std} is negative.");
        return Fill(tensor, nameof(Normal_), new NormalSampler(mean, std), generator);
    }

    /// <summary>
    /// Normal(mean, std) restricted to [a, b] (absolute bounds, as torch.nn.init.trunc_normal_ and
    /// timm): the inverse CDF of a uniform draw between Φ((a − mean)/std) and Φ((b − mean)/std),
    /// clamped to [a, b].
    /// </summary>
    public static Tensor TruncNormal_(Tensor tensor, double mean = 0, double std = 1, double a = -2, double b = 2, Generator? generator = null)
    {
        if (!(a < b)) throw new ArgumentException($"Init.TruncNormal_: the lower bound a = {a} must be below the upper bound b = {b}.");
        if (!(std > 0)) throw new ArgumentException($"Init.TruncNormal_: std {std} must be positive.");
        return Fill(tensor, nameof(TruncNormal_), new TruncatedNormalSampler(mean, std, a, b), generator);
    }

    public static Tensor Constant_(Tensor tensor, double value)
    {
        CheckFloat(tensor, nameof(Constant_));
        return tensor.FillInPlace((float)value);
    }

    public static Tensor Zeros_(Tensor tensor) => Constant_(tensor, 0);

    public static Tensor Ones_(Tensor tensor) => Constant_(tensor, 1);

    /// <summary>U(−a, a) with a = gain·√(6 / (fan_in + fan_out)) (Glorot).</summary>
    public static Tensor XavierUniform_(Tensor tensor, double gain = 1, Generator? generator = null)
    {
        var (fanIn, fanOut) = CalculateFanInAndFanOut(tensor);
        double bound = Math.Sqrt(3.0) * gain * Math.Sqrt(2.0 / (fanIn + fanOut));
        return Uniform_(tensor, -bound, bound, generator);
    }

    /// <summary>N(0, std²) with std = gain·√(2 / (fan_in + fan_out)).</summary>
    public static Tensor XavierNormal_(Tensor tensor, double gain = 1, Generator? generator = null)
    {
        var (fanIn, fanOut) = CalculateFanInAndFanOut(tensor);
        return Normal_(tensor, 0, gain * Math.Sqrt(2.0 / (fanIn + fanOut)), generator);
    }

    /// <summary>U(−bound, bound) with bound = gain·√(3 / fan) (He); <paramref name="a"/> is the leaky-ReLU slope.</summary>
    public static Tensor KaimingUniform_(Tensor tensor, double a = 0, FanMode mode = FanMode.FanIn, Nonlinearity nonlinearity = Nonlinearity.LeakyRelu, Generator? generator = null)
    {
        CheckFloat(tensor, nameof(KaimingUniform_));
        if (tensor.Numel == 0) return tensor; // PyTorch only warns for empty tensors.
        double bound = Math.Sqrt(3.0) * KaimingStd(tensor, a, mode, nonlinearity);
        return Uniform_(tensor, -bound, bound, generator);
    }

    /// <summary>N(0, std²) with std = gain / √fan (He).</summary>
    public static Tensor KaimingNormal_(Tensor tensor, double a = 0, FanMode mode = FanMode.FanIn, Nonlinearity nonlinearity = Nonlinearity.LeakyRelu, Generator? generator = null)
    {
        CheckFloat(tensor, nameof(KaimingNormal_));
        if (tensor.Numel == 0) return tensor;
        return Normal_(tensor, 0, KaimingStd(tensor, a, mode, nonlinearity), generator);
    }

    private static double KaimingStd(Tensor tensor, double a, FanMode mode, Nonlinearity nonlinearity)
    {
        var (fanIn, fanOut) = CalculateFanInAndFanOut(tensor);
        int fan = mode == FanMode.FanIn ? fanIn : fanOut;
        return CalculateGain(nonlinearity, a) / Math.Sqrt(fan);
    }

    /// <summary>
    /// PyTorch's default for nn.Linear and nn.Conv*: kaiming_uniform_(a = √5) for the weight, which is
    /// U(−1/√fan_in, 1/√fan_in), and the same range for the bias.
    /// </summary>
    public static void DefaultLinearOrConv(Tensor weight, Tensor? bias, Generator? generator = null)
    {
        KaimingUniform_(weight, Math.Sqrt(5), generator: generator);
        if (bias is null) return;
        var (fanIn, _) = CalculateFanInAndFanOut(weight);
        double bound = fanIn > 0 ? 1 / Math.Sqrt(fanIn) : 0;
        Uniform_(bias, -bound, bound, generator);
    }

    private interface ISampler
    {
        float Next(Generator generator);
    }

    private readonly struct UniformSampler(double low, double high) : ISampler
    {
        public float Next(Generator g) => (float)(low + (high - low) * g.NextDouble());
    }

    private readonly struct NormalSampler(double mean, double std) : ISampler
    {
        public float Next(Generator g) => (float)(mean + std * g.NextNormal());
    }

    private readonly struct TruncatedNormalSampler : ISampler
    {
        private readonly double _mean, _std, _a, _b, _lowCdf, _highCdf;

        public TruncatedNormalSampler(double mean, double std, double a, double b)
        {
            (_mean, _std, _a, _b) = (mean, std, a, b);
            _lowCdf = Gaussian.Cdf((a - mean) / std);
            _highCdf = Gaussian.Cdf((b - mean) / std);
        }

        public float Next(Generator g)
        {
            double p = _lowCdf + (_highCdf - _lowCdf) * g.NextDouble();
            return (float)Math.Clamp(_mean + _std * Gaussian.InverseCdf(p), _a, _b);
        }
    }

    private static Tensor Fill<TSampler>(Tensor tensor, string op, TSampler sampler, Generator? generator) where TSampler : struct, ISampler
    {
        CheckFloat(tensor, op);
        var g = generator ?? Generator.Default;
        if (tensor.IsContiguous)
        {
            FillSpan(tensor.Span, sampler, g);
            return tensor;
        }
        using var values = Tensor.Empty((int[])tensor.Shape.Clone());
        FillSpan(values.Span, sampler, g);
        tensor.CopyFrom(values);
        return tensor;
    }

    private static void FillSpan<TSampler>(Span<float> span, TSampler sampler, Generator g) where TSampler : struct, ISampler
    {
        for (int i = 0; i < span.Length; i++) span[i] = sampler.Next(g);
    }

    private static void CheckFloat(Tensor tensor, string op)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        if (tensor.DType != DType.Float32) throw new ArgumentException($"Init.{op}: expected a float32 tensor, got {tensor.DType} of shape {ShapeUtil.Format(tensor.Shape)}.", nameof(tensor));
    }
}
