namespace CrossDistill.Engine.Optim;

/// <summary>
/// An optimizer's state dict in a form a safetensors checkpoint stores directly: the per-parameter
/// buffers as tensors ("state.3.exp_avg", "state.0.momentum_buffer"), and everything scalar as
/// metadata strings ("optimizer" = "AdamW", "groups" = "2", "groups.0.params" = "0,1,2",
/// "groups.0.lr" = "0.001", "state.3.step" = "20"). Numbers are written with round-trip precision,
/// so hyper-parameters survive exactly. Parameter indices count through the groups in order, as
/// PyTorch's optimizer.state_dict() does.
/// </summary>
/// <remarks>
/// <see cref="Optimizer.StateDict"/> hands out the optimizer's live buffers (as
/// torch.optim.Optimizer.state_dict does): save them, do not dispose them.
/// </remarks>
public sealed record OptimizerState(Dictionary<string, Tensor> Tensors, Dictionary<string, string> Metadata)
{
    /// <summary>Prefixes every key, to store the state next to a model's tensors in one file.</summary>
    public OptimizerState WithPrefix(string prefix) => new(
        Tensors.ToDictionary(kv => prefix + kv.Key, kv => kv.Value),
        Metadata.ToDictionary(kv => prefix + kv.Key, kv => kv.Value));

    /// <summary>The entries whose keys start with <paramref name="prefix"/>, with the prefix removed.</summary>
    public static OptimizerState FromPrefixed(string prefix, IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string> metadata) => new(
        tensors.Where(kv => kv.Key.StartsWith(prefix, StringComparison.Ordinal)).ToDictionary(kv => kv.Key[prefix.Length..], kv => kv.Value),
        metadata.Where(kv => kv.Key.StartsWith(prefix, StringComparison.Ordinal)).ToDictionary(kv => kv.Key[prefix.Length..], kv => kv.Value));
}
