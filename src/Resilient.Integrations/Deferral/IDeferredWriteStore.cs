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

    /// <summary>Lists an integration's queued, dead-lettered or discarded writes, oldest first, for operators.</summary>
    /// <param name="integration">The integration.</param>
    /// <param name="state">Which writes.</param>
    /// <param name="afterId">Only writes with a greater identifier (paging); 0 for the first page.</param>
    /// <param name="max">The most to return.</param>
    /// <param name="cancellationToken">The caller's token.</param>
    /// <returns>The writes, in identifier order, without their bodies or headers.</returns>
    ValueTask<IReadOnlyList<DeferredWriteEntry>> ListAsync(string integration, DeferredWriteState state, long afterId, int max, CancellationToken cancellationToken);

    /// <summary>Moves a dead letter back into the queue, behind the writes already there, with its attempts reset and its idempotency key kept.</summary>
    /// <param name="integration">The integration the dead letter belongs to.</param>
    /// <param name="id">The dead letter's identifier.</param>
    /// <param name="now">When it becomes due.</param>
    /// <param name="cancellationToken">The caller's token.</param>
    /// <returns>The write's new identifier in the queue, or <see langword="null"/> when the integration has no such dead letter.</returns>
    ValueTask<long?> RequeueAsync(string integration, long id, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Gives a dead letter up for good: its body and headers are deleted, a record of it (<see cref="DeferredWriteState.Discarded"/>) stays.</summary>
    /// <param name="integration">The integration the dead letter belongs to.</param>
    /// <param name="id">The dead letter's identifier.</param>
    /// <param name="reason">Why, as the operator gave it.</param>
    /// <param name="now">When.</param>
    /// <param name="cancellationToken">The caller's token.</param>
    /// <returns>Whether the integration had such a dead letter.</returns>
    ValueTask<bool> DiscardAsync(string integration, long id, string reason, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>
    /// Takes the right to replay an integration's queue. A store shared by several processes grants it to one at a
    /// time and checks it on every change the holder makes (a fencing token); the default, for a store used by one
    /// process, grants it at once and changes the store directly.
    /// </summary>
    /// <param name="integration">The integration.</param>
    /// <param name="holder">Who asks (host, process, instance), for operators.</param>
    /// <param name="cancellationToken">The caller's token.</param>
    /// <returns>The lease, or <see langword="null"/> while another holder has it.</returns>
    ValueTask<IDeferredWriteLease?> TryAcquireLeaseAsync(string integration, string holder, CancellationToken cancellationToken) =>
        new(new Internal.LocalDeferredWriteLease(this, integration));

    /// <summary>Gets the size of an integration's queue.</summary>
    /// <param name="integration">The integration.</param>
    /// <param name="cancellationToken">The caller's token.</param>
    /// <returns>The statistics.</returns>
    ValueTask<DeferredQueueStats> GetStatsAsync(string integration, CancellationToken cancellationToken);
}
