using Resilient.Integrations.Classification;
using Resilient.Integrations.Deferral;
using Resilient.Integrations.Health;

namespace Resilient.Integrations.Status;

/// <summary>One integration's state, as an operator reads it.</summary>
public sealed record IntegrationStatus
{
    /// <summary>Gets the integration's name.</summary>
    public required string Name { get; init; }

    /// <summary>Gets the health state (Unknown when nothing was heard for a while).</summary>
    public required HealthState State { get; init; }

    /// <summary>Gets since when the state holds; <see langword="null"/> while Unknown from the start.</summary>
    public DateTimeOffset? Since { get; init; }

    /// <summary>Gets when the last result (a probe or a live call) came in.</summary>
    public DateTimeOffset? LastResultAt { get; init; }

    /// <summary>Gets the last result's kind: <see cref="FailureKind.None"/> for a success.</summary>
    public FailureKind? LastResultKind { get; init; }

    /// <summary>Gets the last result in words (kind, status, reason), redacted.</summary>
    public string? LastResult { get; init; }

    /// <summary>Gets the kind of the last failure seen.</summary>
    public FailureKind? LastFailureKind { get; init; }

    /// <summary>Gets the circuit breaker's state: <c>Closed</c>, <c>Open</c>, <c>HalfOpen</c>, <c>Isolated</c>, or <c>Unknown</c> before the first call.</summary>
    /// <remarks>With failover or circuits per host, the worst state among <see cref="Circuits"/>.</remarks>
    public required string Circuit { get; init; }

    /// <summary>
    /// Gets each circuit's state by endpoint or host (scheme, host and port, or a failover base address; never user
    /// information or a query), with failover or <c>CircuitBreaker:PerHost</c>; empty with the single circuit.
    /// </summary>
    public IReadOnlyDictionary<string, string> Circuits { get; init; } = new Dictionary<string, string>();

    /// <summary>
    /// Gets why the integration reads Yellow although its calls succeed: a secondary endpoint answering for the
    /// primary, a host's open circuit. Empty otherwise.
    /// </summary>
    public IReadOnlyList<string> DegradedBy { get; init; } = [];

    /// <summary>Gets how long new requests are held by pacing (a rate limit's reset); zero when none.</summary>
    public TimeSpan PacingHold { get; init; }

    /// <summary>Gets the requests counted in the retry budget's window.</summary>
    public long RetryBudgetRequests { get; init; }

    /// <summary>Gets the retries taken in the retry budget's window.</summary>
    public long RetryBudgetRetries { get; init; }

    /// <summary>Gets how many retries the budget allows in its window now.</summary>
    public long RetryBudgetAllowed { get; init; }

    /// <summary>Gets how many last good copies were served since the app started.</summary>
    public long CopiesServed { get; init; }

    /// <summary>Gets when a copy was last served.</summary>
    public DateTimeOffset? LastCopyServedAt { get; init; }

    /// <summary>Gets the age of the oldest copy served in the last 15 minutes: how old the data people see is.</summary>
    public TimeSpan? OldestCopyServedAge { get; init; }

    /// <summary>Gets the queue of deferred writes; <see langword="null"/> without a store.</summary>
    public DeferredQueueStats? Queue { get; init; }

    /// <summary>Gets the oldest dead letters waiting for an operator (at most 20), addresses redacted.</summary>
    public IReadOnlyList<DeferredWriteEntry> DeadLetters { get; init; } = [];

    /// <summary>Gets why the queue could not be read, when it could not (the store is down).</summary>
    public string? QueueError { get; init; }
}
