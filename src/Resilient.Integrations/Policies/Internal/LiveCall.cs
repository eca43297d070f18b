namespace Resilient.Integrations.Policies.Internal;

/// <summary>
/// The token a read's live call runs with under a soft timeout: cancelled with the caller's until the caller is answered
/// from the copy (<see cref="Detach"/>), then its own, so the live call goes on within its total timeout alone.
/// </summary>
internal sealed class LiveCall : IDisposable
{
    private readonly CancellationTokenSource _own = new();
    private readonly CancellationTokenRegistration _caller;

    public LiveCall(CancellationToken caller) =>
        _caller = caller.UnsafeRegister(static own => ((CancellationTokenSource)own!).Cancel(), _own);

    public CancellationToken Token => _own.Token;

    /// <summary>Gets a value indicating whether the live call was cancelled, by its caller or because it was abandoned.</summary>
    public bool Abandoned => _own.IsCancellationRequested;

    /// <summary>The caller is answered: its cancellation no longer reaches the live call.</summary>
    public void Detach() => _caller.Dispose();

    /// <summary>Cancels the live call: nobody waits for it, and it may not go on in the background.</summary>
    public void Abandon() => _own.Cancel();

    public void Dispose()
    {
        _caller.Dispose();
        _own.Dispose();
    }
}
