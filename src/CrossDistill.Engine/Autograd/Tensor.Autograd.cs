namespace CrossDistill.Engine;

public sealed partial class Tensor
{
    /// <summary>Which output of <see cref="GradFn"/> this tensor is (0 unless the node has several outputs).</summary>
    public int GradFnOutputIndex { get; internal set; }

    /// <summary>Back-propagates from this tensor (see <see cref="Autograd.Backward"/>).</summary>
    public void Backward(Tensor? gradient = null) => Autograd.Backward(this, gradient);

    /// <summary>Marks this leaf as requiring grad and returns it (torch.requires_grad_()).</summary>
    public Tensor RequiresGrad_(bool value = true)
    {
        RequiresGrad = value;
        return this;
    }
}
