namespace CrossDistill.Engine;

/// <summary>Whether ops record the autograd graph on this thread (torch.is_grad_enabled).</summary>
public static class GradMode
{
    [ThreadStatic] private static bool _disabled;

    public static bool IsEnabled => !_disabled;

    /// <summary>Turns recording off until the returned handle is disposed (torch.no_grad()).</summary>
    public static IDisposable NoGrad() => new Restore(enabled: false);

    /// <summary>Turns recording on until the returned handle is disposed (torch.enable_grad()).</summary>
    public static IDisposable EnableGrad() => new Restore(enabled: true);

    private sealed class Restore : IDisposable
    {
        private readonly bool _previouslyDisabled;
        private bool _done;

        public Restore(bool enabled)
        {
            _previouslyDisabled = _disabled;
            _disabled = !enabled;
        }

        public void Dispose()
        {
            if (_done) return;
            _done = true;
            _disabled = _previouslyDisabled;
        }
    }
}
