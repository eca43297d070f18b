namespace Resilient.Integrations.Deferral;

/// <summary>
/// A write kept for later delivery: an HTTP request (method, address, body, non-secret headers) or a generic
/// payload for a named handler. Credentials are never part of it: delivery goes through the integration's
/// own client, whose handlers add them again.
/// </summary>
public sealed class DeferredWrite
{
    /// <summary>Gets the store's identifier, in enqueue order; 0 before the write was stored.</summary>
    /// <value>Assigned by the store.</value>
    public long Id { get; init; }

    /// <summary>Gets the integration that delivers the write.</summary>
    /// <value>Required.</value>
    public required string Integration { get; init; }

    /// <summary>Gets the name of the handler that delivers a generic (non-HTTP) write.</summary>
    /// <value><see langword="null"/> for an HTTP write.</value>
    public string? Handler { get; init; }

    /// <summary>Gets the HTTP method of an HTTP write.</summary>
    /// <value><see langword="null"/> for a generic write.</value>
    public string? Method { get; init; }

    /// <summary>Gets the address of an HTTP write, without secret query values.</summary>
    /// <value><see langword="null"/> for a generic write.</value>
    public Uri? Uri { get; init; }

    /// <summary>Gets the headers to send again: content headers and request headers that are not credentials.</summary>
    /// <value>Defaults to empty.</value>
    public IReadOnlyList<KeyValuePair<string, string>> Headers { get; init; } = [];

    /// <summary>Gets the body of an HTTP write, or the serialised payload of a generic one.</summary>
    /// <value>Defaults to empty.</value>
    public ReadOnlyMemory<byte> Body { get; init; }

    /// <summary>Gets the key every delivery attempt carries as <c>Idempotency-Key</c>, so a repeat is harmless.</summary>
    /// <value>Required: the caller's own, or a generated one.</value>
    public required string IdempotencyKey { get; init; }

    /// <summary>Gets how many delivery attempts failed so far.</summary>
    /// <value>Defaults to 0.</value>
    public int Attempts { get; init; }

    /// <summary>Gets when the write was handed over.</summary>
    /// <value>Set when captured.</value>
    public DateTimeOffset EnqueuedAt { get; init; }

    /// <summary>Gets the earliest time of the next delivery attempt.</summary>
    /// <value>Set when captured; moved on by each failed attempt.</value>
    public DateTimeOffset NextAttemptAt { get; init; }

    /// <summary>Gets the last delivery failure, redacted.</summary>
    /// <value><see langword="null"/> before the first failure.</value>
    public string? LastFailure { get; init; }
}
