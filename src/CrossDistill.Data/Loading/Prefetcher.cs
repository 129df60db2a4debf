using System.Runtime.ExceptionServices;

namespace CrossDistill.Data.Loading;

/// <summary>
/// Background threads that make the batches of one epoch ahead of the consumer. Threads claim
/// batch numbers in order and never run more than the prefetch depth ahead of the batch the
/// consumer is waiting for; the consumer takes batches strictly in order, whichever thread made
/// them and whenever it finished.
/// </summary>
internal sealed class Prefetcher : IDisposable
{
    private readonly DataLoader _loader;
    private readonly int _epoch;
    private readonly int[] _order;
    private readonly int _end;
    private readonly int _depth;
    private readonly object _gate = new();
    private readonly Dictionary<int, (Batch? Batch, ExceptionDispatchInfo? Error)> _ready = new();
    private readonly Thread[] _threads;
    private int _next;
    private int _wanted;
    private bool _stopping;

    public Prefetcher(DataLoader loader, int epoch, int[] order, int start, int end)
    {
        _loader = loader;
        _epoch = epoch;
        _order = order;
        _end = end;
        _next = start;
        _wanted = start;
        _depth = loader.Options.PrefetchDepth;
        _threads = new Thread[Math.Min(loader.Options.PrefetchThreads, Math.Max(1, end - start))];
        for (int i = 0; i < _threads.Length; i++)
        {
            _threads[i] = new Thread(Run) { IsBackground = true, Name = $"data-prefetch-{i}" };
            _threads[i].Start();
        }
    }

    private void Run()
    {
        while (true)
        {
            int number;
            lock (_gate)
            {
                while (!_stopping && _next < _end && _next >= _wanted + _depth) Monitor.Wait(_gate);
                if (_stopping || _next >= _end) return;
                number = _next++;
                _loader.RecordAhead(_next - _wanted);
            }
            Batch? batch = null;
            ExceptionDispatchInfo? error = null;
            try
            {
                batch = _loader.MakeBatch(_epoch, _order, number);
            }
            catch (Exception e)
            {
                error = ExceptionDispatchInfo.Capture(e);
            }
            lock (_gate)
            {
                if (_stopping)
                {
                    batch?.Dispose();
                    return;
                }
                _ready[number] = (batch, error);
                Monitor.PulseAll(_gate);
            }
        }
    }

    /// <summary>Waits for batch <paramref name="number"/> (the next in order) and hands it over.</summary>
    public Batch Take(int number)
    {
        (Batch? Batch, ExceptionDispatchInfo? Error) entry;
        lock (_gate)
        {
            if (number != _wanted) throw new InvalidOperationException($"Prefetcher: batch {number} asked for out of order (expected {_wanted}).");
            while (!_ready.TryGetValue(number, out entry)) Monitor.Wait(_gate);
            _ready.Remove(number);
            _wanted = number + 1;
            Monitor.PulseAll(_gate);
        }
        entry.Error?.Throw();
        return entry.Batch!;
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _stopping = true;
            Monitor.PulseAll(_gate);
        }
        foreach (var thread in _threads) thread.Join();
        foreach (var (batch, _) in _ready.Values) batch?.Dispose();
        _ready.Clear();
    }
}
