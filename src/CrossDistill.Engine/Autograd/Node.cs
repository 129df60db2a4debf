namespace CrossDistill.Engine;

/// <summary>
/// Computes the gradients of an op's inputs from the gradient of its output. Returns one entry
/// per input, in order; an entry may be null when that input needs no gradient.
/// </summary>
public delegate Tensor?[] BackwardFunction(Tensor gradOutput);

/// <summary>
/// One recorded op in the define-by-run graph: the inputs it read and a closure holding what it
/// saved for backward. The closure is dropped after it has run, which frees the saved tensors.
/// </summary>
public sealed class Node
{
    private BackwardFunction? _backward;

    internal Node(string name, Tensor[] inputs, BackwardFunction backward)
    {
        Name = name;
        Inputs = inputs;
        _backward = backward;
    }

    /// <summary>The op's name, e.g. "MulBackward".</summary>
    public string Name { get; }

    /// <summary>The inputs of the op. Gradients flow to those that require grad.</summary>
    public Tensor[] Inputs { get; }

    public bool NeedsInputGrad(int i) => Inputs[i].RequiresGrad;

    internal Tensor?[] Apply(Tensor gradOutput)
    {
        var fn = _backward ?? throw new InvalidOperationException(
            $"Trying to backward through {Name} a second time: its saved tensors were freed after the first backward.");
        var grads = fn(gradOutput);
        if (grads.Length != Inputs.Length) throw new InvalidOperationException($"{Name} returned {grads.Length} gradients for {Inputs.Length} inputs.");
        return grads;
    }

    internal void Release() => _backward = null;

    public override string ToString() => Name;
}
