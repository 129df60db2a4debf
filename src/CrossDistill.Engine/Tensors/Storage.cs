namespace CrossDistill.Engine;

/// <summary>
/// A reference-counted block of native memory shared by a tensor and its views. The last
/// tensor to let go returns it to the <see cref="MemoryPool"/>; the finalizer is only a
/// safety net for tensors that were never disposed.
/// </summary>
public sealed unsafe class Storage
{
    private int _refCount = 1;
    private nint _ptr;
    private readonly long _capacity;

    public DType DType { get; }
    public int Length { get; }

    internal Storage(DType dtype, int length, bool zero)
    {
        if (length < 0) throw new ArgumentOutOfRangeException(nameof(length));
        DType = dtype;
        Length = length;
        long bytes = Math.Max(1L, (long)length * dtype.ElementSize());
        _ptr = MemoryPool.Rent(bytes, out _capacity);
        if (zero) new Span<byte>((void*)_ptr, checked((int)Math.Min(bytes, int.MaxValue))).Clear();
    }

    public void* Pointer
    {
        get
        {
            if (_ptr == 0) throw new ObjectDisposedException(nameof(Tensor), "The tensor's storage was released (the tensor or its disposal scope was disposed).");
            return (void*)_ptr;
        }
    }

    public bool IsReleased => _ptr == 0;

    internal void AddRef() => Interlocked.Increment(ref _refCount);

    internal void Release()
    {
        if (Interlocked.Decrement(ref _refCount) != 0) return;
        nint ptr = Interlocked.Exchange(ref _ptr, 0);
        if (ptr != 0) MemoryPool.Return(ptr, _capacity);
        GC.SuppressFinalize(this);
    }

    ~Storage()
    {
        nint ptr = Interlocked.Exchange(ref _ptr, 0);
        if (ptr != 0) MemoryPool.Return(ptr, _capacity);
    }
}
