namespace Resilient.Integrations.Deferral;

/// <summary>Where a deferred write stands.</summary>
public enum DeferredWriteState
{
    /// <summary>Waiting for delivery.</summary>
    Queued,

    /// <summary>Given up by replay (rejected, unreadable or out of attempts); waits for an operator to requeue or discard it.</summary>
    DeadLettered,

    /// <summary>Discarded by an operator: only the record is kept, not the body.</summary>
    Discarded,
}
