using System.Diagnostics;

namespace CrossDistill.Engine.Kernels;

/// <summary>
/// A persistent pool of worker threads that spin briefly and then sleep, so handing out work costs
/// well under a microsecond (Parallel.For costs several). <see cref="For"/> cuts a range into
/// contiguous pieces whose bounds depend only on the range and the grain, never on timing, so
/// results are the same from run to run.
/// </summary>
public static class Workers
{
    private static readonly object Gate = new();
    private static readonly object PoolInUse = new();
    [ThreadStatic] private static bool _insidePool;
    private static Worker[] _workers = Array.Empty<Worker>();
    private static int _threads = Math.Max(1, Environment.ProcessorCount);

    /// <summary>How many threads run kernels, the caller's included (torch.set_num_threads).</summary>
    public static int Threads
    {
        get => _threads;
        set
        {
            if (value < 1) throw new ArgumentOutOfRangeException(nameof(value), "At least one thread is needed.");
            lock (Gate) _threads = value;
        }
    }

    private static Worker[] EnsureWorkers(int count)
    {
        var workers = _workers;
        if (workers.Length >= count) return workers;
        lock (Gate)
        {
            if (_workers.Length < count)
            {
                var grown = new Worker[count];
                Array.Copy(_workers, grown, _workers.Length);
                for (int i = _workers.Length; i < count; i++) grown[i] = new Worker(i);
                _workers = grown;
            }
            return _workers;
        }
    }

    /// <summary>
    /// Runs <paramref name="body"/>(start, end) over [0, <paramref name="count"/>) in at most
    /// <see cref="Threads"/> pieces of at least <paramref name="grain"/> items each; the calling
    /// thread takes the first piece. Small ranges run inline.
    /// </summary>
    public static void For(int count, int grain, Action<int, int> body)
    {
        if (count <= 0) return;
        int pieces = Math.Min(_threads, Math.Max(1, count / Math.Max(grain, 1)));
        // Workers, and a second thread while the pool is busy (a data loader's prefetch), run inline.
        // A nested call from inside a piece also runs inline (Monitor is re-entrant, so check first).
        // Either way the range is cut into the same pieces, so a kernel whose result depends on its
        // pieces gives the same bits whether or not the pool was free.
        if (pieces <= 1 || Worker.IsWorkerThread || _insidePool || !Monitor.TryEnter(PoolInUse))
        {
            for (int p = 0; p < pieces; p++) body(PieceStart(count, pieces, p), PieceStart(count, pieces, p + 1));
            return;
        }
        _insidePool = true;
        try { RunPieces(count, pieces, body); }
        finally
        {
            _insidePool = false;
            Monitor.Exit(PoolInUse);
        }
    }

    private static int PieceStart(int count, int pieces, int p) => (int)((long)count * p / pieces);

    /// <summary>
    /// Posts pieces 1… to the workers and runs piece 0, then runs any piece no worker has claimed
    /// yet. Who runs a piece never changes its bounds, so the results stay the same; but when the
    /// machine is oversubscribed and a worker is not scheduled, the caller does its piece instead of
    /// waiting for it.
    /// </summary>
    private static void RunPieces(int count, int pieces, Action<int, int> body)
    {
        var workers = EnsureWorkers(pieces - 1);
        using var done = new CountdownSignal(pieces - 1);
        var claimed = new int[pieces];
        Exception? failure = null;
        void Run(int p)
        {
            if (Interlocked.Exchange(ref claimed[p], 1) != 0) return;
            try { body(PieceStart(count, pieces, p), PieceStart(count, pieces, p + 1)); }
            catch (Exception e) { Interlocked.CompareExchange(ref failure, e, null); }
            finally { done.Signal(); }
        }
        for (int p = 1; p < pieces; p++)
        {
            int piece = p;
            workers[p - 1].Post(() => Run(piece));
        }
        try
        {
            body(0, PieceStart(count, pieces, 1));
            for (int p = pieces - 1; p >= 1; p--) Run(p);
        }
        finally { done.Wait(); }
        if (failure is not null) throw new AggregateException("A kernel failed on a worker thread.", failure);
    }

    /// <summary>Counts down to zero; the waiter spins first since kernels finish within microseconds.</summary>
    private sealed class CountdownSignal : IDisposable
    {
        private int _remaining;
        private readonly ManualResetEventSlim _event = new(false, spinCount: 200);

        public CountdownSignal(int count) => _remaining = count;

        public void Signal()
        {
            if (Interlocked.Decrement(ref _remaining) == 0) _event.Set();
        }

        public void Wait()
        {
            var spinner = new SpinWait();
            long start = Stopwatch.GetTimestamp();
            while (Volatile.Read(ref _remaining) > 0)
            {
                if (Stopwatch.GetElapsedTime(start).TotalMicroseconds > 50) { _event.Wait(); return; }
                spinner.SpinOnce(-1);
            }
        }

        public void Dispose() => _event.Dispose();
    }

    private sealed class Worker
    {
        [ThreadStatic] private static bool _isWorker;
        private readonly ManualResetEventSlim _wake = new(false, spinCount: 0);
        private Action? _work;

        public static bool IsWorkerThread => _isWorker;

        public Worker(int index)
        {
            var thread = new Thread(Loop) { IsBackground = true, Name = $"crossdistill-worker-{index}" };
            thread.Start();
        }

        public void Post(Action work)
        {
            Volatile.Write(ref _work, work);
            _wake.Set();
        }

        private void Loop()
        {
            _isWorker = true;
            while (true)
            {
                // Spin for a while before sleeping: a training step posts work every few microseconds.
                long start = Stopwatch.GetTimestamp();
                Action? work;
                var spinner = new SpinWait();
                while ((work = Volatile.Read(ref _work)) is null)
                {
                    if (Stopwatch.GetElapsedTime(start).TotalMicroseconds > 200)
                    {
                        _wake.Wait();
                        _wake.Reset();
                        start = Stopwatch.GetTimestamp();
                    }
                    else spinner.SpinOnce(-1);
                }
                // Taken atomically: a post that lands between the read and a reset would be lost.
                if (Interlocked.CompareExchange(ref _work, null, work) != work) continue;
                work();
            }
        }
    }
}
