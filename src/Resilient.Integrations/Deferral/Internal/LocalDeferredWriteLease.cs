namespace Resilient.Integrations.Deferral.Internal;

/// <summary>The lease of a store used by one process: nobody else replays its queue, so it never expires and changes the store directly.</summary>
internal sealed class LocalDeferredWriteLease(IDeferredWriteStore store, string integration) : IDeferredWriteLease
{
    public string Integration => integration;

    public long Token => 0;

    public TimeSpan Duration => Timeout.InfiniteTimeSpan;

    public ValueTask<bool> RenewAsync(CancellationToken cancellationToken) => new(true);

    public ValueTask CompleteAsync(long id, CancellationToken cancellationToken) => store.CompleteAsync(id, cancellationToken);

    public ValueTask RescheduleAsync(long id, int attempts, DateTimeOffset nextAttemptAt, string? lastFailure, CancellationToken cancellationToken) =>
        store.RescheduleAsync(id, attempts, nextAttemptAt, lastFailure, cancellationToken);

    public ValueTask DeadLetterAsync(long id, string reason, CancellationToken cancellationToken) => store.DeadLetterAsync(id, reason, cancellationToken);

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
