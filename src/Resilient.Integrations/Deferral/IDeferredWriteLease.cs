namespace Resilient.Integrations.Deferral;

/// <summary>
/// The right to replay one integration's queue, from <see cref="IDeferredWriteStore.TryAcquireLeaseAsync"/>. Every change
/// goes through it, so a store shared by several processes can refuse the changes of a holder whose lease expired or was
/// taken over (<see cref="DeferredWriteLeaseLostException"/>). Disposing it gives the lease up.
/// </summary>
public interface IDeferredWriteLease : IAsyncDisposable
{
    /// <summary>Gets the integration whose queue the lease covers.</summary>
    string Integration { get; }

    /// <summary>Gets the fencing token: it grows with every grant, so a change carrying an older one is refused.</summary>
    long Token { get; }

    /// <summary>Gets how long the lease lasts without a renewal, on the store's clock; <see cref="Timeout.InfiniteTimeSpan"/> when it never expires.</summary>
    TimeSpan Duration { get; }

    /// <summary>Extends the lease by <see cref="Duration"/>.</summary>
    /// <param name="cancellationToken">The caller's token.</param>
    /// <returns><see langword="false"/> when the lease was lost: it expired or another holder took it.</returns>
    ValueTask<bool> RenewAsync(CancellationToken cancellationToken);

    /// <summary>Removes a delivered write, as <see cref="IDeferredWriteStore.CompleteAsync"/> does, if the lease still holds.</summary>
    /// <param name="id">The write's identifier.</param>
    /// <param name="cancellationToken">The caller's token.</param>
    /// <returns>A task that completes when the removal is persisted.</returns>
    /// <exception cref="DeferredWriteLeaseLostException">The lease expired or was taken over; nothing changed.</exception>
    ValueTask CompleteAsync(long id, CancellationToken cancellationToken);

    /// <summary>Records a failed attempt, as <see cref="IDeferredWriteStore.RescheduleAsync"/> does, if the lease still holds.</summary>
    /// <param name="id">The write's identifier.</param>
    /// <param name="attempts">The failed attempts so far.</param>
    /// <param name="nextAttemptAt">The earliest next attempt.</param>
    /// <param name="lastFailure">The failure, redacted.</param>
    /// <param name="cancellationToken">The caller's token.</param>
    /// <returns>A task that completes when the change is persisted.</returns>
    /// <exception cref="DeferredWriteLeaseLostException">The lease expired or was taken over; nothing changed.</exception>
    ValueTask RescheduleAsync(long id, int attempts, DateTimeOffset nextAttemptAt, string? lastFailure, CancellationToken cancellationToken);

    /// <summary>Moves a write to the dead letters, as <see cref="IDeferredWriteStore.DeadLetterAsync"/> does, if the lease still holds.</summary>
    /// <param name="id">The write's identifier.</param>
    /// <param name="reason">Why, redacted.</param>
    /// <param name="cancellationToken">The caller's token.</param>
    /// <returns>A task that completes when the move is persisted.</returns>
    /// <exception cref="DeferredWriteLeaseLostException">The lease expired or was taken over; nothing changed.</exception>
    ValueTask DeadLetterAsync(long id, string reason, CancellationToken cancellationToken);
}
