using CrossDistill.Engine;
using CrossDistill.Engine.Nn;

namespace CrossDistill.Models.Transformers;

/// <summary>
/// A level of a state-dict hierarchy without computation of its own, such as torchvision's
/// "encoder" and "heads" or timm's "patch_embed": it only holds named parameters and submodules.
/// </summary>
public sealed class ModuleGroup : Module
{
    public T Add<T>(string name, T module) where T : Module => RegisterModule(name, module);

    public Tensor AddParameter(string name, Tensor parameter) => RegisterParameter(name, parameter);
}
