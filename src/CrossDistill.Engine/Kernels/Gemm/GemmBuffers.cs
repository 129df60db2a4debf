using System.Runtime.InteropServices;

namespace CrossDistill.Engine.Kernels;

/// <summary>
/// Per-thread, 64-byte-aligned packing buffers, grown on demand and reused: kernels run on the caller
/// and on the persistent workers, so each thread allocates once. The memory is freed by a finalizer
/// when its thread ends, so short-lived callers do not leak.
/// </summary>
internal static unsafe class GemmBuffers
{
    [ThreadStatic] private static ThreadBuffers? _current;

    public static float* PackedA(long floats) => Current.PackedA.Ensure(floats);

    public static float* PackedB(long floats) => Current.PackedB.Ensure(floats);

    /// <summary>Room for edge tiles and gathered lines.</summary>
    public static float* Scratch(long floats) => Current.Scratch.Ensure(floats);

    private static ThreadBuffers Current => _current ??= new ThreadBuffers();

    private sealed class ThreadBuffers
    {
        public readonly Block PackedA = new(), PackedB = new(), Scratch = new();

        ~ThreadBuffers()
        {
            PackedA.Free();
            PackedB.Free();
            Scratch.Free();
        }
    }

    private sealed class Block
    {
        private float* _pointer;
        private long _capacity;

        public float* Ensure(long floats)
        {
            if (floats > _capacity)
            {
                Free();
                long grown = Math.Max(floats, 4096);
                _pointer = (float*)NativeMemory.AlignedAlloc((nuint)(grown * sizeof(float)), 64);
                _capacity = grown;
            }
            return _pointer;
        }

        public void Free()
        {
            if (_pointer != null) NativeMemory.AlignedFree(_pointer);
            _pointer = null;
            _capacity = 0;
        }
    }
}
