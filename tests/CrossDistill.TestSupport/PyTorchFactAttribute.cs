namespace CrossDistill.TestSupport;

/// <summary>A test that runs PyTorch live; skipped (not failed) where /usr/bin/python3 cannot import torch.</summary>
public sealed class PyTorchFactAttribute : FactAttribute
{
    public const string SkipMessage = "PyTorch is not installed for /usr/bin/python3 (apt-get install python3-torch); skipping the live parity test";

    public PyTorchFactAttribute()
    {
        if (!Python.HasTorch) Skip = SkipMessage;
    }
}
