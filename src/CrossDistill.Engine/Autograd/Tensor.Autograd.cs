namespace CrossDistill.Engine;

public sealed partial class Tensor
{
    /// <summary>Back-propagates from this tensor (see <see cref="Autograd.Backward"/>).</summary>
    public void Backward(Tensor? gradient = null) => Autograd.Backward(this, gradient);

    /// <summary>Marks this leaf as requiring grad and returns it (torch.requires_grad_()).</summary>
    public Tensor RequiresGrad_(bool value = true)
    {
        RequiresGrad = value;
        return this;
    }
}
