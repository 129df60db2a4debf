using CrossDistill.Engine;
using CrossDistill.Engine.Nn;
using CrossDistill.Models;

namespace CrossDistill.Training.Distillers.PatModules;

/// <summary>Builds the aligner between two grid-form shapes and initialises it as the official code.</summary>
public static class Aligners
{
    /// <summary>
    /// A <see cref="MapAligner"/> when the target is a map, else a <see cref="TokenAligner"/>; the
    /// source may be either kind (maps become row-major tokens, square tokens become maps). Both
    /// specs are in grid form (<see cref="PatFeatures.GridSpec"/>). Initialised by <see cref="InitWeights"/>.
    /// </summary>
    public static Module<Tensor, Tensor> Create(FeatureSpec source, FeatureSpec target)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(target);
        Module<Tensor, Tensor> aligner = (source, target) switch
        {
            (_, MapSpec t) => new MapAligner(source.ChannelDim, t.Channels, t.Height, t.Width),
            (MapSpec s, TokenSpec t) => new TokenAligner(s.Height * s.Width, s.Channels, t.Tokens, t.Dim),
            (TokenSpec s, TokenSpec t) => new TokenAligner(s.Tokens, s.Dim, t.Tokens, t.Dim),
            _ => throw new ArgumentException($"Aligners.Create: unsupported feature specs {source} → {target}."),
        };
        InitWeights(aligner);
        return aligner;
    }

    /// <summary>
    /// The official init_weights: convolutions kaiming_normal (fan_out, ReLU gain) with zero bias,
    /// batch norms weight 1 and bias 0, linears trunc_normal(std 0.02) with zero bias.
    /// </summary>
    public static void InitWeights(Module module, Generator? generator = null)
    {
        ArgumentNullException.ThrowIfNull(module);
        foreach (var m in module.Modules())
        {
            switch (m)
            {
                case Conv2d conv:
                    Init.KaimingNormal_(conv.Weight, mode: FanMode.FanOut, nonlinearity: Nonlinearity.Relu, generator: generator);
                    if (conv.Bias is not null) Init.Zeros_(conv.Bias);
                    break;
                case BatchNorm bn:
                    if (bn.Weight is not null) Init.Ones_(bn.Weight);
                    if (bn.Bias is not null) Init.Zeros_(bn.Bias);
                    break;
                case Linear linear:
                    Init.TruncNormal_(linear.Weight, std: 0.02, generator: generator);
                    if (linear.Bias is not null) Init.Zeros_(linear.Bias);
                    break;
            }
        }
    }
}
