using System.Diagnostics;
using System.Reflection;

namespace CrossDistill.Engine;

/// <summary>Live bytes of the <see cref="MemoryPool"/> grouped by the call site that allocated them.</summary>
/// <param name="Site">The engine op that allocated ("F.Linear", "Tensor.Contiguous", "backward F.Gelu") and the model code that called it.</param>
/// <param name="Bytes">Bytes at the pool's bucket size.</param>
/// <param name="Blocks">How many storage blocks.</param>
public sealed record AllocationSite(string Site, long Bytes, int Blocks);

/// <summary>
/// A diagnostic for peak memory: while <see cref="Enabled"/>, the pool remembers for each live
/// block the op that allocated it (from a stack trace, so only for investigations: it slows every
/// allocation down by tens of microseconds), and keeps a table of the live bytes by site at the
/// moment <see cref="MemoryPool.PeakBytesInUse"/> was last raised. Off, it costs the pool one
/// static bool test per allocation.
/// </summary>
public static class AllocationSites
{
    private static readonly object Gate = new();
    private static readonly Dictionary<nint, (string Site, long Bytes)> Live = new();
    private static volatile bool _enabled;
    private static IReadOnlyList<AllocationSite> _atPeak = [];

    /// <summary>
    /// Turns recording on or off. Turning it on forgets earlier records and the table at the
    /// peak; blocks allocated while it was off are reported as one "(allocated before recording)" row.
    /// </summary>
    public static bool Enabled
    {
        get => _enabled;
        set
        {
            lock (Gate)
            {
                if (value && !_enabled)
                {
                    Live.Clear();
                    _atPeak = [];
                }
                _enabled = value;
            }
        }
    }

    /// <summary>Live bytes by site now, largest first.</summary>
    public static IReadOnlyList<AllocationSite> Current()
    {
        lock (Gate) return Tabulate(MemoryPool.BytesInUse);
    }

    /// <summary>Live bytes by site when the peak was last raised while recording, largest first.</summary>
    public static IReadOnlyList<AllocationSite> AtPeak
    {
        get { lock (Gate) return _atPeak; }
    }

    /// <summary>A plain-text table of <paramref name="sites"/>: MiB, blocks, site; <paramref name="top"/> rows and the rest summed.</summary>
    public static string Format(IReadOnlyList<AllocationSite> sites, int top = 25)
    {
        var text = new System.Text.StringBuilder();
        text.AppendLine($"{"MiB",9} {"blocks",7}  site");
        foreach (var s in sites.Take(top)) text.AppendLine($"{s.Bytes / 1048576.0,9:F1} {s.Blocks,7}  {s.Site}");
        if (sites.Count > top)
        {
            var rest = sites.Skip(top).ToList();
            text.AppendLine($"{rest.Sum(s => s.Bytes) / 1048576.0,9:F1} {rest.Sum(s => s.Blocks),7}  ({rest.Count} other sites)");
        }
        text.AppendLine($"{sites.Sum(s => s.Bytes) / 1048576.0,9:F1} {sites.Sum(s => s.Blocks),7}  total");
        return text.ToString();
    }

    internal static void OnRent(nint ptr, long bytes, bool raisedPeak, long inUse)
    {
        string site = Describe(new StackTrace(2, false));
        lock (Gate)
        {
            Live[ptr] = (site, bytes);
            if (raisedPeak) _atPeak = Tabulate(inUse);
        }
    }

    internal static void OnReturn(nint ptr)
    {
        lock (Gate) Live.Remove(ptr);
    }

    private static List<AllocationSite> Tabulate(long inUse)
    {
        var rows = Live.Values.GroupBy(v => v.Site)
            .Select(g => new AllocationSite(g.Key, g.Sum(v => v.Bytes), g.Count()))
            .ToList();
        long untracked = inUse - rows.Sum(r => r.Bytes);
        if (untracked > 0) rows.Add(new AllocationSite("(allocated before recording)", untracked, 0));
        rows.Sort((a, b) => b.Bytes.CompareTo(a.Bytes));
        return rows;
    }

    private static readonly Assembly Engine = typeof(MemoryPool).Assembly;

    /// <summary>
    /// The outermost engine frame below the caller's code names the op (nested engine calls such as
    /// Reshape → Contiguous → Empty are its internals); modules (Nn) and the autograd driver are
    /// skipped so a layer or a backward function is named by the op it ran. The nearest frame
    /// outside the engine says who called it.
    /// </summary>
    private static string Describe(StackTrace trace)
    {
        string? op = null, caller = null;
        bool backward = false;
        foreach (var frame in trace.GetFrames())
        {
            var method = frame.GetMethod();
            var type = method?.DeclaringType;
            if (method is null || type is null) continue;
            if (type.Assembly != Engine)
            {
                if (op is not null) { caller = Name(type, method.Name); break; }
                continue;
            }
            if (type == typeof(Autograd) || type.DeclaringType == typeof(Autograd) || type == typeof(Node))
            {
                // A backward function is named by its op; what called Backward() says nothing more.
                backward = true;
                break;
            }
            if (type.Namespace?.StartsWith("CrossDistill.Engine.Nn", StringComparison.Ordinal) == true) continue;
            if (type.Namespace?.StartsWith("CrossDistill.Engine.Kernels", StringComparison.Ordinal) == true) continue;
            if (type == typeof(MemoryPool) || type == typeof(Storage)) continue;
            op = Name(type, method.Name);
        }
        string site = backward ? "backward " + (op ?? "(autograd: gradient sums and leaf gradients)") : op ?? "(unknown)";
        return caller is null ? site : $"{site} ← {caller}";
    }

    /// <summary>"F.Linear" for a method, and for a lambda inside F.Linear too (compiled as F+&lt;&gt;c__DisplayClass…, "&lt;Linear&gt;b__0").</summary>
    private static string Name(Type type, string method)
    {
        while (type.DeclaringType is not null && type.Name.StartsWith('<')) type = type.DeclaringType;
        if (method.StartsWith('<'))
        {
            int end = method.IndexOf('>');
            if (end > 1) method = method[1..end];
        }
        string typeName = type.Name;
        int tick = typeName.IndexOf('`');
        if (tick > 0) typeName = typeName[..tick];
        return $"{typeName}.{method}";
    }
}
