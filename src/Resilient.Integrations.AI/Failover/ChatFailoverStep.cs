namespace Resilient.Integrations.AI.Failover;

/// <summary>The step of the failover ladder that produced an outcome.</summary>
public enum ChatFailoverStep
{
    /// <summary>A secondary answered live.</summary>
    Secondary = 1,

    /// <summary>Every live step failed; the last good answer to the same request was served, marked stale.</summary>
    LastGoodAnswer,

    /// <summary>Every step failed and no last good answer was there: the caller got the failure.</summary>
    Failure,
}
