namespace CrossDistill.Engine.Optim;

/// <summary>Ways of building parameter groups from a module's named parameters.</summary>
public static class ParamGroups
{
    /// <summary>
    /// Two groups as timm's param_groups_weight_decay makes them: first the parameters exempt from
    /// weight decay (0-d and 1-d tensors such as norm scales and biases, names ending in ".bias",
    /// and any name in <paramref name="noDecayNames"/>, e.g. "pos_embed"), with weight_decay 0; then
    /// the rest with <paramref name="weightDecay"/>. Parameters that do not require grad are left out,
    /// and so is a group that ends up empty.
    /// </summary>
    public static List<ParamGroup> SplitDecay(IEnumerable<(string Name, Tensor Parameter)> namedParameters, double weightDecay, IEnumerable<string>? noDecayNames = null)
    {
        ArgumentNullException.ThrowIfNull(namedParameters);
        var skip = new HashSet<string>(noDecayNames ?? Array.Empty<string>(), StringComparer.Ordinal);
        var decay = new List<Tensor>();
        var noDecay = new List<Tensor>();
        foreach (var (name, p) in namedParameters)
        {
            if (!p.RequiresGrad) continue;
            if (p.Rank <= 1 || name == "bias" || name.EndsWith(".bias", StringComparison.Ordinal) || skip.Contains(name)) noDecay.Add(p);
            else decay.Add(p);
        }
        var groups = new List<ParamGroup>();
        if (noDecay.Count > 0) groups.Add(new ParamGroup(noDecay, weightDecay: 0));
        if (decay.Count > 0) groups.Add(new ParamGroup(decay, weightDecay: weightDecay));
        return groups;
    }
}
