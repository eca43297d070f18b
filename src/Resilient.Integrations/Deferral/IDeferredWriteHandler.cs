namespace Resilient.Integrations.Deferral;

/// <summary>
/// Delivers generic (non-HTTP) deferred writes of one kind, e.g. an email sent through an SDK. Register it in
/// the container; <see cref="IDeferredWrites"/> queues payloads under its <see cref="Name"/>.
/// </summary>
public interface IDeferredWriteHandler
{
    /// <summary>Gets the handler's name, stored with each write.</summary>
    string Name { get; }

    /// <summary>Delivers one write. Throw to fail it: the exception is classified like any failure (Rejected dead-letters it).</summary>
    /// <param name="write">The write; <see cref="DeferredWrite.Body"/> holds the payload and <see cref="DeferredWrite.IdempotencyKey"/> the key to pass on.</param>
    /// <param name="cancellationToken">Cancelled on shutdown.</param>
    /// <returns>A task that completes when the write was delivered.</returns>
    Task HandleAsync(DeferredWrite write, CancellationToken cancellationToken);
}
