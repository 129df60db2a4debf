namespace CrossDistill.Engine;

/// <summary>
/// Computes the gradients of an op's inputs from the gradient of its output. Returns one entry
/// per input, in order; an entry may be null when that input needs no gradient.
/// </summary>
public delegate Tensor?[] BackwardFunction(Tensor gradOutput);

/// <summary>
/// The backward of an op with several outputs (split, chunk): gets one gradient per output, null
/// for outputs no gradient reached, and returns one entry per input as <see cref="BackwardFunction"/>.
/// </summary>
public delegate Tensor?[] MultiOutputBackwardFunction(Tensor?[] gradOutputs);

/// <summary>
/// One recorded op in the define-by-run graph: the inputs it read and a closure holding what it
/// saved for backward. The closure is dropped after it has run, which frees the saved tensors.
/// A node may have several outputs (each knows its slot, <see cref="Tensor.GradFnOutputIndex"/>);
/// it then runs once, with all their gradients.
/// </summary>
public sealed class Node
{
    private BackwardFunction? _backward;
    private MultiOutputBackwardFunction? _multiBackward;
    private bool _released;

    internal Node(string name, Tensor[] inputs, BackwardFunction backward)
    {
        Name = name;
        Inputs = inputs;
        _backward = backward;
        OutputCount = 1;
    }

    internal Node(string name, Tensor[] inputs, MultiOutputBackwardFunction backward, int outputCount)
    {
        Name = name;
        Inputs = inputs;
        _multiBackward = backward;
        OutputCount = outputCount;
    }

    /// <summary>The op's name, e.g. "MulBackward".</summary>
    public string Name { get; }

    /// <summary>The inputs of the op. Gradients flow to those that require grad.</summary>
    public Tensor[] Inputs { get; }

    /// <summary>How many output tensors share this node (1 for most ops).</summary>
    public int OutputCount { get; }

    public bool NeedsInputGrad(int i) => Inputs[i].RequiresGrad;

    /// <summary>Runs the backward with one gradient per output slot (at least one of them non-null).</summary>
    internal Tensor?[] Apply(Tensor?[] gradOutputs)
    {
        if (_released) throw new InvalidOperationException(
            $"Trying to backward through {Name} a second time: its saved tensors were freed after the first backward.");
        Tensor?[] grads;
        if (_multiBackward is not null) grads = _multiBackward(gradOutputs);
        else grads = _backward!(gradOutputs[0] ?? throw new InvalidOperationException($"{Name} was run without a gradient."));
        if (grads.Length != Inputs.Length) throw new InvalidOperationException($"{Name} returned {grads.Length} gradients for {Inputs.Length} inputs.");
        return grads;
    }

    internal void Release()
    {
        _backward = null;
        _multiBackward = null;
        _released = true;
    }

    public override string ToString() => Name;
}
