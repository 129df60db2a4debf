using System.Runtime.CompilerServices;

namespace CrossDistill.Engine;

/// <summary>
/// A strided view on native storage: float32 values (or int64 indices), a shape, strides in
/// elements and an offset. Shapes follow PyTorch (NCHW for images); the strides say how the
/// elements are laid out, so a convolution can hand back an NCHW-shaped tensor stored channels-last
/// as PyTorch's memory_format=channels_last does. Disposing a tensor releases its hold on the
/// storage; views keep the storage alive until the last of them is disposed.
/// </summary>
public sealed unsafe partial class Tensor : IDisposable
{
    private Storage? _storage;
    private readonly int[] _shape;
    private readonly int[] _strides;
    private bool _requiresGrad;

    internal DisposeScope? Scope;

    /// <summary>The autograd node that produced this tensor; null for leaves and constants.</summary>
    public Node? GradFn { get; internal set; }

    /// <summary>The accumulated gradient of a leaf that requires grad.</summary>
    public Tensor? Grad { get; set; }

    /// <summary>Optional name, used in error messages and by modules.</summary>
    public string? Name { get; set; }

    public int Offset { get; }
    public int Numel { get; }

    internal Tensor(Storage storage, int[] shape, int[] strides, int offset)
    {
        _storage = storage;
        _shape = shape;
        _strides = strides;
        Offset = offset;
        Numel = ShapeUtil.Numel(shape);
        Scope = DisposeScope.Current;
        Scope?.Add(this);
    }

    /// <summary>A new tensor with its own storage, laid out contiguously (row-major).</summary>
    internal static Tensor Empty(int[] shape, DType dtype = DType.Float32, bool zero = false)
        => new(new Storage(dtype, ShapeUtil.Numel(shape), zero), shape, ShapeUtil.ContiguousStrides(shape), 0);

    /// <summary>A new tensor with its own storage and the given strides, which must be dense.</summary>
    internal static Tensor Empty(int[] shape, int[] strides, DType dtype = DType.Float32, bool zero = false)
        => new(new Storage(dtype, ShapeUtil.Numel(shape), zero), shape, strides, 0);

    /// <summary>A new uninitialised tensor with the same shape and, when dense, the same layout.</summary>
    internal static Tensor EmptyLike(Tensor t, bool zero = false)
        => t.IsDense ? Empty((int[])t._shape.Clone(), DenseStridesOf(t), t.DType, zero) : Empty((int[])t._shape.Clone(), t.DType, zero);

    public Storage Storage => _storage ?? throw new ObjectDisposedException(nameof(Tensor), $"Tensor{(Name is null ? "" : " '" + Name + "'")} of shape {ShapeUtil.Format(_shape)} was disposed.");

    public DType DType => Storage.DType;

    /// <summary>The sizes of each dimension. Do not modify the array.</summary>
    public int[] Shape => _shape;

    /// <summary>The step in elements between neighbours along each dimension. Do not modify the array.</summary>
    public int[] Strides => _strides;

    public int Rank => _shape.Length;

    public int Size(int dim) => _shape[ShapeUtil.NormalizeDim(dim, Rank)];

    public bool IsDisposed => _storage is null || _storage.IsReleased;

    /// <summary>True for a leaf (no <see cref="GradFn"/>) whose gradient is accumulated, or a result of ops on such tensors.</summary>
    public bool RequiresGrad
    {
        get => _requiresGrad;
        set
        {
            if (!value && GradFn is not null) throw new InvalidOperationException("Cannot turn off RequiresGrad on a non-leaf tensor; use Detach().");
            if (value && DType != DType.Float32) throw new InvalidOperationException("Only float tensors can require gradients.");
            _requiresGrad = value;
        }
    }

    internal void SetRequiresGradFromOp() => _requiresGrad = true;

    public bool IsLeaf => GradFn is null;

    /// <summary>Pointer to element [0, 0, …] of a float tensor.</summary>
    public float* DataPtr
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get
        {
            if (DType != DType.Float32) throw new InvalidOperationException($"Expected a float32 tensor, got {DType}.");
            return (float*)Storage.Pointer + Offset;
        }
    }

    /// <summary>Pointer to element [0, 0, …] of an int64 tensor.</summary>
    public long* LongPtr
    {
        get
        {
            if (DType != DType.Int64) throw new InvalidOperationException($"Expected an int64 tensor, got {DType}.");
            return (long*)Storage.Pointer + Offset;
        }
    }

    /// <summary>The elements of a dense float tensor in storage order (row-major when contiguous).</summary>
    public Span<float> Span
    {
        get
        {
            if (!IsDense) throw new InvalidOperationException($"Span needs a dense tensor; call Contiguous() first (shape {ShapeUtil.Format(_shape)}, strides {ShapeUtil.Format(_strides)}).");
            return new Span<float>(DataPtr, Numel);
        }
    }

    /// <summary>The elements of a dense int64 tensor in storage order.</summary>
    public Span<long> LongSpan
    {
        get
        {
            if (!IsDense) throw new InvalidOperationException("LongSpan needs a dense tensor; call Contiguous() first.");
            return new Span<long>(LongPtr, Numel);
        }
    }

    public bool IsContiguous => HasStrides(ShapeUtil.ContiguousStrides(_shape));

    public bool IsChannelsLast => Rank == 4 && HasStrides(ShapeUtil.ChannelsLastStrides(_shape));

    private bool HasStrides(int[] expected)
    {
        for (int i = 0; i < _shape.Length; i++)
            if (_shape[i] != 1 && _strides[i] != expected[i]) return false;
        return true;
    }

    /// <summary>
    /// True when the elements fill a block of Numel consecutive slots with no gaps or overlaps, in
    /// some order of the dimensions (contiguous, channels-last, a transposed contiguous tensor, …).
    /// Elementwise kernels run over such tensors as flat arrays.
    /// </summary>
    public bool IsDense
    {
        get
        {
            if (Numel == 0) return true; // no element to misplace, whatever the strides
            int n = _shape.Length;
            Span<int> order = stackalloc int[n];
            for (int i = 0; i < n; i++) order[i] = i;
            // Sort dims by stride, innermost first; size-1 dims do not matter.
            for (int i = 1; i < n; i++)
            {
                int d = order[i], j = i - 1;
                while (j >= 0 && _strides[order[j]] > _strides[d]) { order[j + 1] = order[j]; j--; }
                order[j + 1] = d;
            }
            long expected = 1;
            foreach (int d in order)
            {
                if (_shape[d] == 1) continue;
                if (_strides[d] != expected) return false;
                expected *= _shape[d];
            }
            return true;
        }
    }

    /// <summary>Dense strides with the same dimension order as a dense tensor (size-1 dims made canonical).</summary>
    internal static int[] DenseStridesOf(Tensor t)
    {
        if (t.IsContiguous) return ShapeUtil.ContiguousStrides(t._shape);
        if (t.IsChannelsLast) return ShapeUtil.ChannelsLastStrides(t._shape);
        int n = t.Rank;
        var order = Enumerable.Range(0, n).OrderByDescending(d => t._strides[d]).ThenBy(d => d).ToArray();
        var strides = new int[n];
        int s = 1;
        for (int i = n - 1; i >= 0; i--)
        {
            strides[order[i]] = s;
            s *= Math.Max(t._shape[order[i]], 1);
        }
        return strides;
    }

    /// <summary>Makes a new tensor that shares this one's storage.</summary>
    internal Tensor ViewOf(int[] shape, int[] strides, int offset)
    {
        var storage = Storage;
        storage.AddRef();
        return new Tensor(storage, shape, strides, offset);
    }

    /// <summary>Releases this tensor's hold on its storage now rather than at the end of its scope.</summary>
    public void Dispose()
    {
        Scope?.Remove(this);
        Scope = null;
        DisposeCore();
    }

    /// <summary>
    /// Lets go of this tensor's data now but keeps its shape and its place in the autograd graph, as
    /// PyTorch frees an intermediate whose last reference is gone while gradients still flow through
    /// its node. For a composite op's or a module's forward temporaries once consumed: call it only
    /// when no backward function reads this tensor's values (a linear, view, add or attention output
    /// is never read back; a ReLU's output is). Views of the same storage keep the data alive until
    /// they go too; reading this tensor afterwards throws <see cref="ObjectDisposedException"/>.
    /// </summary>
    public void ReleaseData() => Interlocked.Exchange(ref _storage, null)?.Release();

    internal void DisposeCore()
    {
        var s = Interlocked.Exchange(ref _storage, null);
        s?.Release();
        GradFn = null;
        Scope = null;
    }

    /// <summary>Moves this tensor from its disposal scope to the enclosing one (or out of all scopes).</summary>
    public Tensor MoveToOuterScope()
    {
        if (Scope is null) return this;
        var outer = Scope.Outer;
        Scope.Remove(this);
        Scope = outer;
        outer?.Add(this);
        return this;
    }

    /// <summary>Takes this tensor out of every disposal scope: the caller now owns it.</summary>
    public Tensor DetachFromScopes()
    {
        Scope?.Remove(this);
        Scope = null;
        return this;
    }

    public override string ToString() => TensorFormatter.Format(this);
}
