namespace Resilient.Integrations.Deferral;

/// <summary>
/// Where deferred writes wait for delivery. <see cref="EnqueueAsync"/> returns only once the write is
/// persisted, so a caller told "queued" can rely on it. Implement it for other databases.
/// </summary>
/// <remarks>
/// When an <see cref="IDeferredWriteProtector"/> is registered, the writes a store receives are already sealed
/// (body and headers in one protected <see cref="DeferredWrite.Body"/>) and are opened after <see cref="GetDueAsync"/>:
/// a store keeps them as given and needs no key.
/// </remarks>
public interface IDeferredWriteStore
{
    /// <summary>Gets a value indicating whether writes survive a process crash.</summary>
    bool IsDurable { get; }

    /// <summary>Persists a write and returns its identifier.</summary>
    /// <param name="write">The write; its <see cref="DeferredWrite.Id"/> is ignored.</param>
    /// <param name="cancellationToken">The caller's token.</param>
    /// <returns>The identifier, increasing in enqueue order.</returns>
    ValueTask<long> EnqueueAsync(DeferredWrite write, CancellationToken cancellationToken);

    /// <summary>Gets the oldest writes of an integration, in order, up to the first that is not yet due: a write waiting out its backoff holds back the ones after it, so order is kept.</summary>
    /// <param name="integration">The integration.</param>
    /// <param name="now">The current time.</param>
    /// <param name="max">The most to return.</param>
    /// <param name="cancellationToken">The caller's token.</param>
    /// <returns>The due writes in enqueue order.</returns>
    ValueTask<IReadOnlyList<DeferredWrite>> GetDueAsync(string integration, DateTimeOffset now, int max, CancellationToken cancellationToken);

    /// <summary>Removes a delivered write.</summary>
    /// <param name="id">The write's identifier.</param>
    /// <param name="cancellationToken">The caller's token.</param>
    /// <returns>A task that completes when the removal is persisted.</returns>
    ValueTask CompleteAsync(long id, CancellationToken cancellationToken);

    /// <summary>Records a failed attempt and when to try again.</summary>
    /// <param name="id">The write's identifier.</param>
    /// <param name="attempts">The failed attempts so far.</param>
    /// <param name="nextAttemptAt">The earliest next attempt.</param>
    /// <param name="lastFailure">The failure, redacted.</param>
    /// <param name="cancellationToken">The caller's token.</param>
    /// <returns>A task that completes when the change is persisted.</returns>
    ValueTask RescheduleAsync(long id, int attempts, DateTimeOffset nextAttemptAt, string? lastFailure, CancellationToken cancellationToken);

    /// <summary>Moves a write that will never be delivered to the dead letters.</summary>
    /// <param name="id">The write's identifier.</param>
    /// <param name="reason">Why, redacted.</param>
    /// <param name="cancellationToken">The caller's token.</param>
    /// <returns>A task that completes when the move is persisted.</returns>
    ValueTask DeadLetterAsync(long id, string reason, CancellationToken cancellationToken);

    /// <summary>Gets the size of an integration's queue.</summary>
    /// <param name="integration">The integration.</param>
    /// <param name="cancellationToken">The caller's token.</param>
    /// <returns>The statistics.</returns>
    ValueTask<DeferredQueueStats> GetStatsAsync(string integration, CancellationToken cancellationToken);
}
