using CrossDistill.Engine;
using CrossDistill.Engine.Nn;

namespace CrossDistill.Training.Distillers.Modules;

/// <summary>timm's transformer MLP: fc1 → GELU (exact) → fc2.</summary>
public sealed class BlockMlp : Module<Tensor, Tensor>
{
    private readonly Linear _fc1;
    private readonly Linear _fc2;

    public BlockMlp(int dim, int hidden)
    {
        _fc1 = RegisterModule("fc1", new Linear(dim, hidden));
        _fc2 = RegisterModule("fc2", new Linear(hidden, dim));
    }

    public override Tensor Forward(Tensor x) => _fc2.Forward(F.Gelu(_fc1.Forward(x)));
}
