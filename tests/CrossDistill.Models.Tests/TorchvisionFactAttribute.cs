namespace CrossDistill.Models.Tests;

/// <summary>A test that runs torchvision live; skipped (not failed) where /usr/bin/python3 cannot import torch and torchvision.</summary>
public sealed class TorchvisionFactAttribute : FactAttribute
{
    public const string SkipMessage = "PyTorch or torchvision is not installed for /usr/bin/python3 (apt-get install python3-torch python3-torchvision); skipping the live torchvision parity test";

    private static readonly Lazy<bool> Available = new(() =>
    {
        if (!Python.HasTorch) return false;
        try
        {
            Python.Run("import torchvision");
            return true;
        }
        catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception or TimeoutException)
        {
            return false;
        }
    });

    public TorchvisionFactAttribute()
    {
        if (!Available.Value) Skip = SkipMessage;
    }
}
