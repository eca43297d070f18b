namespace Resilient.Integrations.Deferral;

/// <summary>The size of an integration's queue of deferred writes.</summary>
/// <param name="Depth">How many writes wait for delivery.</param>
/// <param name="OldestEnqueuedAt">When the oldest waiting write was handed over, if any wait.</param>
/// <param name="DeadLettered">How many writes were given up and moved to the dead letters.</param>
public readonly record struct DeferredQueueStats(int Depth, DateTimeOffset? OldestEnqueuedAt, int DeadLettered)
{
    /// <summary>Gets when the oldest dead letter still waiting for an operator (not requeued or discarded) was dead-lettered.</summary>
    /// <value><see langword="null"/> when there is none.</value>
    public DateTimeOffset? OldestDeadLetteredAt { get; init; }
}
