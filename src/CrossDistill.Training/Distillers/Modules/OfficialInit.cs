using CrossDistill.Engine;
using CrossDistill.Engine.Nn;

namespace CrossDistill.Training.Distillers.Modules;

/// <summary>
/// OFA-KD's init_weights, which its OFA and FitNet projectors go through: convolutions get
/// kaiming_normal(fan_out, relu) weights (their biases keep PyTorch's default), batch norms 1 and 0,
/// linear layers trunc_normal(std 0.02) weights and zero biases. Layer norms keep 1 and 0.
/// </summary>
public static class OfficialInit
{
    public static void Apply(Module root, Generator? generator = null)
    {
        using var _ = GradMode.NoGrad();
        foreach (var module in root.Modules())
        {
            switch (module)
            {
                case Conv2d conv:
                    Init.KaimingNormal_(conv.Weight, mode: FanMode.FanOut, nonlinearity: Nonlinearity.Relu, generator: generator);
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
