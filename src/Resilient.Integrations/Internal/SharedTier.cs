using Resilient.Integrations.Redaction.Internal;

namespace Resilient.Integrations.Internal;

/// <summary>
/// A store other instances share (Redis, a distributed cache) as one instance sees it: each call bounded by a timeout
/// of real time (it bounds I/O, whatever clock the app injects), and one Warning when it stops answering, one
/// Information when it answers again. A failed call is the caller's cue to do what the instance does alone.
/// </summary>
internal sealed class SharedTier(Action<string, string> unavailable, Action back)
{
    private int _failing;

    /// <summary>Calls the tier; never throws (unless <paramref name="cancellationToken"/> is cancelled) and never waits past <paramref name="timeout"/>.</summary>
    public async ValueTask<(bool Answered, T Value)> TryAsync<T>(Func<CancellationToken, ValueTask<T>> call, TimeSpan timeout, CancellationToken cancellationToken)
    {
        try
        {
            using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            bounded.CancelAfter(timeout);
            var value = await call(bounded.Token).AsTask().WaitAsync(timeout, cancellationToken).ConfigureAwait(false);
            Answered();
            return (true, value);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            Failed(ex);
            return (false, default!);
        }
    }

    public void Answered()
    {
        if (Volatile.Read(ref _failing) == 1 && Interlocked.Exchange(ref _failing, 0) == 1)
        {
            back();
        }
    }

    public void Failed(Exception exception)
    {
        if (Interlocked.Exchange(ref _failing, 1) == 0)
        {
            unavailable(exception.GetType().Name, SecretRedactor.RedactExceptionMessage(exception));
        }
    }
}
