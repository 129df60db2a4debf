using System.Diagnostics;

namespace CrossDistill.Bench;

/// <summary>Warm-up, then the median of several timed samples (robust to a noisy neighbour on the host).</summary>
public static class Timing
{
    /// <summary>Median seconds per call of <paramref name="action"/>.</summary>
    public static double MedianSeconds(Action action, BenchOptions options)
    {
        double warmupSeconds = options.Quick ? 0.05 : 0.3;
        double sampleSeconds = options.Quick ? 0.02 : 0.1;
        int samples = options.Quick ? 3 : 9;

        // Warm-up: JIT tiers, packing buffers, worker threads and caches settle.
        var clock = Stopwatch.StartNew();
        int calls = 0;
        while (calls < 2 || clock.Elapsed.TotalSeconds < warmupSeconds)
        {
            action();
            calls++;
        }
        double perCall = clock.Elapsed.TotalSeconds / calls;
        int reps = Math.Max(1, (int)Math.Ceiling(sampleSeconds / perCall));

        var times = new double[samples];
        for (int s = 0; s < samples; s++)
        {
            long start = Stopwatch.GetTimestamp();
            for (int r = 0; r < reps; r++) action();
            times[s] = Stopwatch.GetElapsedTime(start).TotalSeconds / reps;
        }
        Array.Sort(times);
        return times[samples / 2];
    }

    /// <summary>
    /// Median seconds of <paramref name="timed"/> alone, each call preceded by an untimed
    /// <paramref name="setup"/> and followed by an untimed <paramref name="teardown"/>: a backward
    /// pass needs a fresh forward graph every time, since a node frees what it saved when it runs.
    /// </summary>
    public static double MedianSeconds(Action setup, Action timed, Action teardown, BenchOptions options)
    {
        double warmupSeconds = options.Quick ? 0.05 : 0.3;
        double sampleSeconds = options.Quick ? 0.02 : 0.1;
        int samples = options.Quick ? 3 : 9;

        double Call()
        {
            setup();
            long start = Stopwatch.GetTimestamp();
            timed();
            double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
            teardown();
            return seconds;
        }

        double spent = 0;
        int calls = 0;
        while (calls < 2 || spent < warmupSeconds)
        {
            spent += Call();
            calls++;
        }
        int reps = Math.Max(1, (int)Math.Ceiling(sampleSeconds / (spent / calls)));

        var times = new double[samples];
        for (int s = 0; s < samples; s++)
        {
            double total = 0;
            for (int r = 0; r < reps; r++) total += Call();
            times[s] = total / reps;
        }
        Array.Sort(times);
        return times[samples / 2];
    }
}
