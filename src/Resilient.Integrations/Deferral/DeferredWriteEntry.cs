namespace Resilient.Integrations.Deferral;

/// <summary>What an operator sees of a queued, dead-lettered or discarded write: never its body or headers.</summary>
public sealed record DeferredWriteEntry
{
    /// <summary>Gets the write's identifier in its store.</summary>
    /// <value>Assigned by the store.</value>
    public required long Id { get; init; }

    /// <summary>Gets the integration that delivers the write.</summary>
    /// <value>Required.</value>
    public required string Integration { get; init; }

    /// <summary>Gets where the write stands.</summary>
    /// <value>Required.</value>
    public required DeferredWriteState State { get; init; }

    /// <summary>Gets the HTTP method, or <see langword="null"/> for a generic write.</summary>
    /// <value><see langword="null"/> for a generic write.</value>
    public string? Method { get; init; }

    /// <summary>Gets the address of an HTTP write (path and query, secret values redacted by <see cref="IDeferredWriteAdmin"/>).</summary>
    /// <value><see langword="null"/> for a generic write.</value>
    public string? Address { get; init; }

    /// <summary>Gets the handler of a generic write.</summary>
    /// <value><see langword="null"/> for an HTTP write.</value>
    public string? Handler { get; init; }

    /// <summary>Gets the key every delivery attempt carries; a requeued write keeps it.</summary>
    /// <value>Required.</value>
    public required string IdempotencyKey { get; init; }

    /// <summary>Gets how many delivery attempts failed.</summary>
    /// <value>Defaults to 0.</value>
    public int Attempts { get; init; }

    /// <summary>Gets the last delivery failure, redacted.</summary>
    /// <value><see langword="null"/> before the first failure.</value>
    public string? LastFailure { get; init; }

    /// <summary>Gets when the write was handed over.</summary>
    /// <value>Set when captured.</value>
    public DateTimeOffset EnqueuedAt { get; init; }

    /// <summary>Gets how long ago the write was handed over, when the list was taken.</summary>
    /// <value>Set by <see cref="IDeferredWriteAdmin.ListAsync"/>; zero from a store.</value>
    public TimeSpan Age { get; init; }

    /// <summary>Gets when the write was dead-lettered.</summary>
    /// <value><see langword="null"/> for a queued write.</value>
    public DateTimeOffset? DeadLetteredAt { get; init; }

    /// <summary>Gets why the write was dead-lettered, or, once discarded, why it was discarded.</summary>
    /// <value><see langword="null"/> for a queued write.</value>
    public string? Reason { get; init; }

    /// <summary>Gets when an operator discarded the write.</summary>
    /// <value><see langword="null"/> unless <see cref="DeferredWriteState.Discarded"/>.</value>
    public DateTimeOffset? DiscardedAt { get; init; }
}
