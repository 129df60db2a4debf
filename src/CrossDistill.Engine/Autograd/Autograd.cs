namespace CrossDistill.Engine;

/// <summary>Reverse-mode automatic differentiation over the graph that ops record.</summary>
public static class Autograd
{
    /// <summary>True when an op on <paramref name="inputs"/> must be recorded.</summary>
    public static bool ShouldRecord(params Tensor[] inputs)
    {
        if (!GradMode.IsEnabled) return false;
        foreach (var t in inputs) if (t.RequiresGrad) return true;
        return false;
    }

    public static bool ShouldRecord(Tensor a) => GradMode.IsEnabled && a.RequiresGrad;

    public static bool ShouldRecord(Tensor a, Tensor b) => GradMode.IsEnabled && (a.RequiresGrad || b.RequiresGrad);

    /// <summary>
    /// Attaches a backward function to <paramref name="output"/> if any input requires grad and
    /// grad mode is on. Returns the output for chaining.
    /// </summary>
    public static Tensor Record(Tensor output, string name, Tensor[] inputs, BackwardFunction backward)
    {
        if (!ShouldRecord(inputs)) return output;
        output.GradFn = new Node(name, inputs, backward);
        output.SetRequiresGradFromOp();
        return output;
    }

    /// <summary>
    /// Attaches one backward function shared by all <paramref name="outputs"/> (as PyTorch's
    /// SplitBackward): during backward it runs once, after every output's gradient is known, with
    /// null for the outputs no gradient reached. Returns the outputs for chaining.
    /// </summary>
    public static Tensor[] RecordMulti(Tensor[] outputs, string name, Tensor[] inputs, MultiOutputBackwardFunction backward)
    {
        if (!ShouldRecord(inputs)) return outputs;
        var node = new Node(name, inputs, backward, outputs.Length);
        for (int i = 0; i < outputs.Length; i++)
        {
            outputs[i].GradFn = node;
            outputs[i].GradFnOutputIndex = i;
            outputs[i].SetRequiresGradFromOp();
        }
        return outputs;
    }

    /// <summary>
    /// Back-propagates from <paramref name="root"/>, accumulating into the <see cref="Tensor.Grad"/>
    /// of every leaf that requires grad. A non-scalar root needs an explicit gradient of its shape.
    /// Each node's closure is dropped once it has run; the intermediate gradients this pass creates
    /// are freed as soon as every node waiting for them has consumed them, and a backward function's
    /// own temporaries when it returns.
    /// </summary>
    public static void Backward(Tensor root, Tensor? gradient = null)
    {
        var rootGradientArgument = gradient;
        if (!root.RequiresGrad) throw new InvalidOperationException("Backward() on a tensor that does not require grad and has no grad_fn.");
        if (gradient is null)
        {
            if (root.Numel != 1) throw new InvalidOperationException($"Backward() without a gradient needs a scalar, got shape {ShapeUtil.Format(root.Shape)}.");
            gradient = Torch.OnesLike(root);
        }
        else if (!gradient.Shape.AsSpan().SequenceEqual(root.Shape))
            throw new ArgumentException($"The gradient's shape {ShapeUtil.Format(gradient.Shape)} does not match the root's {ShapeUtil.Format(root.Shape)}.");

        using var _ = GradMode.NoGrad();
        if (root.GradFn is null)
        {
            AccumulateLeaf(root, gradient);
            return;
        }

        var order = TopologicalOrder(root.GradFn);
        var flow = new GradientFlow();
        if (!ReferenceEquals(gradient, rootGradientArgument)) flow.Own(gradient);
        flow.AddPending(root.GradFn, root.GradFnOutputIndex, gradient);
        foreach (var node in order)
        {
            if (!flow.TakePending(node, out var grads)) { node.Release(); continue; }
            Tensor?[] inputGrads;
            // Temporaries a backward function creates and does not return go as soon as it has run,
            // as PyTorch frees them when their last reference goes.
            using (var nodeScope = DisposeScope.Enter())
            {
                inputGrads = node.Apply(grads);
                foreach (var g in inputGrads)
                    if (g is not null && ReferenceEquals(g.Scope, nodeScope))
                    {
                        g.MoveToOuterScope();
                        flow.Own(g);
                    }
            }
            node.Release();
            // The node's incoming gradients are consumed, unless it handed one on unchanged.
            foreach (var g in grads)
                if (g is not null && Array.IndexOf(inputGrads, g) < 0) flow.Drop(g);
            for (int i = 0; i < inputGrads.Length; i++)
            {
                var input = node.Inputs[i];
                var g = inputGrads[i];
                if (g is null || !input.RequiresGrad) continue;
                if (!g.Shape.AsSpan().SequenceEqual(input.Shape))
                    throw new InvalidOperationException($"{node.Name} produced a gradient of shape {ShapeUtil.Format(g.Shape)} for input {i} of shape {ShapeUtil.Format(input.Shape)}.");
                if (input.GradFn is null) AccumulateLeaf(input, g);
                else flow.AddPending(input.GradFn, input.GradFnOutputIndex, g);
            }
            foreach (var g in inputGrads)
                if (g is not null) flow.Drop(g);
        }
    }

    /// <summary>
    /// The gradients waiting for each node, and which of them the backward pass itself created
    /// (and so may free once no node waits for them). A gradient held in several slots is freed
    /// when the last of them has been consumed; a tensor the caller passed in, or one a backward
    /// function returned from what it saved, is never freed here.
    /// </summary>
    private sealed class GradientFlow
    {
        private readonly Dictionary<Node, Tensor?[]> _pending = new(ReferenceEqualityComparer.Instance);
        private readonly HashSet<Tensor> _owned = new(ReferenceEqualityComparer.Instance);
        private readonly Dictionary<Tensor, int> _slotsHolding = new(ReferenceEqualityComparer.Instance);

        public void Own(Tensor g) => _owned.Add(g);

        public void AddPending(Node node, int slot, Tensor g)
        {
            if (!_pending.TryGetValue(node, out var slots)) _pending[node] = slots = new Tensor?[node.OutputCount];
            if (slots[slot] is { } existing)
            {
                var sum = existing + g;
                Own(sum);
                Unhold(existing);
                slots[slot] = sum;
                Hold(sum);
                Drop(existing);
            }
            else
            {
                slots[slot] = g;
                Hold(g);
            }
        }

        public bool TakePending(Node node, out Tensor?[] grads)
        {
            if (!_pending.Remove(node, out grads!)) return false;
            foreach (var g in grads) if (g is not null) Unhold(g);
            return true;
        }

        /// <summary>Frees <paramref name="g"/> if the backward pass created it and no node still waits for it.</summary>
        public void Drop(Tensor g)
        {
            if (_slotsHolding.ContainsKey(g) || !_owned.Remove(g)) return;
            g.Dispose();
        }

        private void Hold(Tensor g) => _slotsHolding[g] = _slotsHolding.GetValueOrDefault(g) + 1;

        private void Unhold(Tensor g)
        {
            int n = _slotsHolding[g] - 1;
            if (n == 0) _slotsHolding.Remove(g);
            else _slotsHolding[g] = n;
        }
    }

    /// <summary>Nodes in an order where each comes before the nodes of its inputs.</summary>
    private static List<Node> TopologicalOrder(Node root)
    {
        var postOrder = new List<Node>();
        var visited = new HashSet<Node>(ReferenceEqualityComparer.Instance);
        var stack = new Stack<(Node Node, int Next)>();
        stack.Push((root, 0));
        visited.Add(root);
        while (stack.Count > 0)
        {
            var (node, next) = stack.Pop();
            if (next < node.Inputs.Length)
            {
                stack.Push((node, next + 1));
                var child = node.Inputs[next].GradFn;
                if (child is not null && node.Inputs[next].RequiresGrad && visited.Add(child)) stack.Push((child, 0));
            }
            else postOrder.Add(node);
        }
        postOrder.Reverse();
        return postOrder;
    }

    private static void AccumulateLeaf(Tensor leaf, Tensor g)
    {
        if (leaf.Grad is null)
        {
            // A private copy: g may alias another gradient or a saved tensor.
            leaf.Grad = g.Clone().DetachFromScopes();
        }
        else
        {
            leaf.Grad.AddInPlace(g);
        }
    }
}
