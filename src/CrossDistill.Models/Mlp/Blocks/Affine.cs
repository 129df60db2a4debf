using CrossDistill.Engine;
using CrossDistill.Engine.Nn;

namespace CrossDistill.Models.Mlp;

/// <summary>ResMLP's per-channel affine "norm": beta + alpha·x with alpha and beta of shape (1, 1, D), as timm's Affine.</summary>
public sealed class Affine : Module<Tensor, Tensor>
{
    public Tensor Alpha { get; }
    public Tensor Beta { get; }

    public Affine(int dim)
    {
        Alpha = RegisterParameter("alpha", Torch.Ones(1, 1, dim));
        Beta = RegisterParameter("beta", Torch.Zeros(1, 1, dim));
    }

    public override Tensor Forward(Tensor x) => x * Alpha + Beta;
}
