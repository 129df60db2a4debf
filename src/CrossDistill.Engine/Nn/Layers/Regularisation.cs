namespace CrossDistill.Engine.Nn;

/// <summary>Inverted dropout in training, identity in eval.</summary>
public sealed class Dropout : Module<Tensor, Tensor>
{
    public float P { get; }

    public Dropout(float p = 0.5f)
    {
        if (p < 0 || p > 1) throw new ArgumentOutOfRangeException(nameof(p), $"Dropout probability must be in [0, 1], got {p}.");
        P = p;
    }

    public override Tensor Forward(Tensor x) => F.Dropout(x, P, Training);
}

/// <summary>Stochastic depth per sample (timm's DropPath).</summary>
public sealed class DropPath : Module<Tensor, Tensor>
{
    public float P { get; }

    public DropPath(float p = 0f)
    {
        if (p < 0 || p > 1) throw new ArgumentOutOfRangeException(nameof(p), $"Drop-path probability must be in [0, 1], got {p}.");
        P = p;
    }

    public override Tensor Forward(Tensor x) => F.DropPath(x, P, Training);
}
