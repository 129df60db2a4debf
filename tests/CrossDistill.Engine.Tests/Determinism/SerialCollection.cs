namespace CrossDistill.Engine.Tests.Determinism;

/// <summary>
/// Tests that change process-wide settings (Workers.Threads) or read process-wide counters
/// (MemoryPool.BytesInUse) run in this collection, alone, after the parallel ones.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SerialCollection
{
    public const string Name = "Serial: global thread count and memory counters";
}
