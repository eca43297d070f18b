namespace Resilient.Integrations.Deferral;

/// <summary>
/// Lets operators see and act on an integration's deferred writes: what waits, what was dead-lettered and why, and
/// what to do with a dead letter (send it again, or give it up). Works on every <see cref="IDeferredWriteStore"/>.
/// </summary>
public interface IDeferredWriteAdmin
{
    /// <summary>Lists an integration's writes in one state, oldest first, without bodies or headers; addresses are redacted.</summary>
    /// <param name="integration">The integration.</param>
    /// <param name="state">Which writes.</param>
    /// <param name="max">The most to return, between 1 and 10,000.</param>
    /// <param name="afterId">For the next page: the last <see cref="DeferredWriteEntry.Id"/> of the previous one.</param>
    /// <param name="cancellationToken">The caller's token.</param>
    /// <returns>The writes.</returns>
    Task<IReadOnlyList<DeferredWriteEntry>> ListAsync(string integration, DeferredWriteState state, int max = 100, long afterId = 0, CancellationToken cancellationToken = default);

    /// <summary>
    /// Sends a dead letter through replay again: it joins the end of the queue with its attempts reset and the same
    /// idempotency key, so a server that already acted on it can recognise the repeat.
    /// </summary>
    /// <param name="integration">The integration.</param>
    /// <param name="id">The dead letter's <see cref="DeferredWriteEntry.Id"/>.</param>
    /// <param name="cancellationToken">The caller's token.</param>
    /// <returns>The write's new identifier in the queue, or <see langword="null"/> when the integration has no such dead letter.</returns>
    Task<long?> RequeueAsync(string integration, long id, CancellationToken cancellationToken = default);

    /// <summary>Gives a dead letter up: its body is deleted, a record with the reason stays, and a Warning is logged.</summary>
    /// <param name="integration">The integration.</param>
    /// <param name="id">The dead letter's <see cref="DeferredWriteEntry.Id"/>.</param>
    /// <param name="reason">Why, for the record (e.g. "sent by hand, ticket 4711").</param>
    /// <param name="cancellationToken">The caller's token.</param>
    /// <returns>Whether the integration had such a dead letter.</returns>
    Task<bool> DiscardAsync(string integration, long id, string reason, CancellationToken cancellationToken = default);
}
