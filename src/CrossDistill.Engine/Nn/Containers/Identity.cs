namespace CrossDistill.Engine.Nn;

/// <summary>Returns its input unchanged, as torch.nn.Identity (a placeholder where a layer is optional).</summary>
public sealed class Identity : Module<Tensor, Tensor>
{
    public override Tensor Forward(Tensor input) => input;
}
