namespace CrossDistill.Engine;

/// <summary>
/// Collects every tensor created on this thread while it is the innermost open scope, and
/// disposes them when it closes (as TorchSharp's DisposeScope). Wrap a training step in one so
/// memory stays flat without waiting for the GC. Tensors that must outlive the step (parameters,
/// gradients of leaves, optimizer state, kept results) are moved out with
/// <see cref="Tensor.MoveToOuterScope"/> or <see cref="Tensor.DetachFromScopes"/>.
/// </summary>
public sealed class DisposeScope : IDisposable
{
    [ThreadStatic] private static DisposeScope? _current;

    private readonly DisposeScope? _outer;
    private readonly HashSet<Tensor> _tensors = new(ReferenceEqualityComparer.Instance);
    private bool _disposed;

    private DisposeScope()
    {
        _outer = _current;
        _current = this;
    }

    /// <summary>Opens a scope nested in the current one.</summary>
    public static DisposeScope Enter() => new();

    internal static DisposeScope? Current => _current;

    public DisposeScope? Outer => _outer;

    public int Count => _tensors.Count;

    internal void Add(Tensor t) => _tensors.Add(t);

    internal bool Remove(Tensor t) => _tensors.Remove(t);

    /// <summary>Keeps <paramref name="tensors"/> alive past this scope by moving them to the enclosing one.</summary>
    public void Keep(params Tensor[] tensors)
    {
        foreach (var t in tensors) t.MoveToOuterScope();
    }

    public void Dispose()
    {
        if (_disposed) return;
        if (_current != this) throw new InvalidOperationException("Disposal scopes must be closed in the reverse order they were opened.");
        _disposed = true;
        _current = _outer;
        foreach (var t in _tensors) t.DisposeCore();
        _tensors.Clear();
    }
}
