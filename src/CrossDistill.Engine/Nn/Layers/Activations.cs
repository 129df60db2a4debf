namespace CrossDistill.Engine.Nn;

/// <summary>A parameter-free layer wrapping a function (activations, flatten, pooling).</summary>
public class Lambda : Module<Tensor, Tensor>
{
    private readonly Func<Tensor, Tensor> _fn;

    public Lambda(Func<Tensor, Tensor> fn) => _fn = fn;

    public override Tensor Forward(Tensor x) => _fn(x);
}

public sealed class ReLU : Lambda { public ReLU() : base(F.Relu) { } }
public sealed class ReLU6 : Lambda { public ReLU6() : base(F.Relu6) { } }
public sealed class SiLU : Lambda { public SiLU() : base(F.Silu) { } }
public sealed class Sigmoid : Lambda { public Sigmoid() : base(F.Sigmoid) { } }
public sealed class Tanh : Lambda { public Tanh() : base(F.Tanh) { } }
public sealed class Hardswish : Lambda { public Hardswish() : base(F.Hardswish) { } }
public sealed class GELU : Lambda { public GELU(string approximate = "none") : base(x => F.Gelu(x, approximate)) { } }
public sealed class LeakyReLU : Lambda { public LeakyReLU(float negativeSlope = 0.01f) : base(x => F.LeakyRelu(x, negativeSlope)) { } }
public sealed class Flatten : Lambda { public Flatten(int startDim = 1, int endDim = -1) : base(x => x.Flatten(startDim, endDim)) { } }
public sealed class AdaptiveAvgPool2d : Lambda { public AdaptiveAvgPool2d(int outH, int outW) : base(x => F.AdaptiveAvgPool2d(x, outH, outW)) { } }
public sealed class MaxPool2d : Lambda
{
    public MaxPool2d(int kernelSize, int? stride = null, int padding = 0)
        : base(x => F.MaxPool2d(x, new[] { kernelSize, kernelSize }, new[] { stride ?? kernelSize, stride ?? kernelSize }, new[] { padding, padding })) { }
}
public sealed class AvgPool2d : Lambda
{
    public AvgPool2d(int kernelSize, int? stride = null, int padding = 0)
        : base(x => F.AvgPool2d(x, new[] { kernelSize, kernelSize }, new[] { stride ?? kernelSize, stride ?? kernelSize }, new[] { padding, padding })) { }
}
