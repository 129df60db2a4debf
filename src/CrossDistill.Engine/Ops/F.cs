namespace CrossDistill.Engine;

/// <summary>Neural-network functions, named as in torch.nn.functional.</summary>
public static partial class F
{
}
