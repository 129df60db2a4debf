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
public sealed class Hardsigmoid : Lambda { public Hardsigmoid() : base(F.Hardsigmoid) { } }

/// <summary>torch.nn.GELU: <c>approximate</c> is "none" (the exact erf form) or "tanh".</summary>
public sealed class GELU : Lambda
{
    public string Approximate { get; }

    public GELU(string approximate = "none") : base(x => F.Gelu(x, approximate))
    {
        if (approximate is not ("none" or "tanh"))
            throw new ArgumentException($"GELU: approximate must be \"none\" or \"tanh\", got \"{approximate}\".", nameof(approximate));
        Approximate = approximate;
    }
}

public sealed class LeakyReLU : Lambda
{
    public float NegativeSlope { get; }

    public LeakyReLU(float negativeSlope = 0.01f) : base(x => F.LeakyRelu(x, negativeSlope)) => NegativeSlope = negativeSlope;
}

public sealed class ELU : Lambda
{
    public float Alpha { get; }

    public ELU(float alpha = 1f) : base(x => F.Elu(x, alpha)) => Alpha = alpha;
}

public sealed class Softplus : Lambda
{
    public float Beta { get; }
    public float Threshold { get; }

    public Softplus(float beta = 1f, float threshold = 20f) : base(x => F.Softplus(x, beta, threshold)) => (Beta, Threshold) = (beta, threshold);
}

/// <summary>torch.nn.Softmax over <c>dim</c> (which PyTorch also requires in practice).</summary>
public sealed class Softmax : Lambda
{
    public int Dim { get; }

    public Softmax(int dim) : base(x => F.Softmax(x, dim)) => Dim = dim;
}

public sealed class LogSoftmax : Lambda
{
    public int Dim { get; }

    public LogSoftmax(int dim) : base(x => F.LogSoftmax(x, dim)) => Dim = dim;
}
