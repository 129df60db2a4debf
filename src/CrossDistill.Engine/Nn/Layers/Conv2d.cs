namespace CrossDistill.Engine.Nn;

/// <summary>
/// 2-D convolution, as torch.nn.Conv2d (weight [out, in/groups, kH, kW], zero padding); outputs are
/// channels-last. Array arguments take one value for both axes or (height, width). Initialised as
/// PyTorch does: kaiming_uniform(a = √5) for the weight, U(−1/√fan_in, 1/√fan_in) for the bias,
/// with fan_in = in/groups · kH · kW.
/// </summary>
public sealed class Conv2d : Module<Tensor, Tensor>
{
    public Tensor Weight { get; }
    public Tensor? Bias { get; }
    public int InChannels { get; }
    public int OutChannels { get; }
    public int[] KernelSize { get; }
    public int[] Stride { get; }
    public int[] Padding { get; }
    public int[] Dilation { get; }
    public int Groups { get; }

    public Conv2d(int inChannels, int outChannels, int kernelSize, int stride = 1, int padding = 0, int dilation = 1, int groups = 1, bool bias = true)
        : this(inChannels, outChannels, new[] { kernelSize }, new[] { stride }, new[] { padding }, new[] { dilation }, groups, bias) { }

    public Conv2d(int inChannels, int outChannels, int[] kernelSize, int[]? stride = null, int[]? padding = null, int[]? dilation = null, int groups = 1, bool bias = true)
    {
        if (inChannels < 1 || outChannels < 1)
            throw new ArgumentException($"Conv2d: in_channels {inChannels} and out_channels {outChannels} must be positive.");
        if (groups < 1 || inChannels % groups != 0 || outChannels % groups != 0)
            throw new ArgumentException($"Conv2d: in_channels {inChannels} and out_channels {outChannels} must be divisible by groups {groups}.", nameof(groups));
        KernelSize = Pooling.Pair("Conv2d", nameof(kernelSize), kernelSize);
        Stride = stride is null ? new[] { 1, 1 } : Pooling.Pair("Conv2d", nameof(stride), stride);
        Padding = padding is null ? new[] { 0, 0 } : Pooling.Pair("Conv2d", nameof(padding), padding);
        Dilation = dilation is null ? new[] { 1, 1 } : Pooling.Pair("Conv2d", nameof(dilation), dilation);
        if (KernelSize[0] < 1 || KernelSize[1] < 1)
            throw new ArgumentException($"Conv2d: kernel size ({KernelSize[0]}, {KernelSize[1]}) must be positive.", nameof(kernelSize));
        (InChannels, OutChannels, Groups) = (inChannels, outChannels, groups);
        Weight = RegisterParameter("weight", Torch.Empty(outChannels, inChannels / groups, KernelSize[0], KernelSize[1]));
        if (bias) Bias = RegisterParameter("bias", Torch.Empty(outChannels));
        Init.DefaultLinearOrConv(Weight, Bias);
    }

    public override Tensor Forward(Tensor x) => F.Conv2d(x, Weight, Bias, Stride, Padding, Dilation, Groups);
}
