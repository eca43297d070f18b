using Resilient.Integrations.Classification;

namespace Resilient.Integrations.Deferral;

/// <summary>
/// Store-and-forward for writes: a deferrable write that fails because the service is down is persisted
/// (an <see cref="IDeferredWriteStore"/> must be registered) and the caller gets 202 Accepted; a replay
/// service delivers it when the integration recovers.
/// </summary>
public sealed class DeferralPolicy
{
    /// <summary>Gets or sets a value indicating whether every write (any method but GET, HEAD, OPTIONS) of the integration is deferrable. Single requests opt in with <see cref="DeferralRequestExtensions.DeferOnFailure"/>.</summary>
    /// <value>Defaults to <see langword="false"/>.</value>
    public bool DeferWrites { get; set; }

    /// <summary>Gets the failure kinds that defer a write instead of failing it (an open circuit is Unavailable). A list in configuration replaces the defaults.</summary>
    /// <value>Defaults to Unavailable and Timeout.</value>
    public IList<FailureKind> DeferOn { get; } = [FailureKind.Unavailable, FailureKind.Timeout];

    /// <summary>Gets or sets a value indicating whether a deferrable write is queued without being sent while the integration is Red.</summary>
    /// <value>Defaults to <see langword="true"/>.</value>
    public bool QueueWhileRed { get; set; } = true;

    /// <summary>Gets or sets how many delivery attempts a write gets before it is dead-lettered with a Critical alert.</summary>
    /// <value>Defaults to 10. Must be between 1 and 1000.</value>
    public int MaxAttempts { get; set; } = 10;

    /// <summary>Gets or sets the first wait after a failed delivery; it doubles with each attempt up to <see cref="MaxRetryDelay"/>.</summary>
    /// <value>Defaults to 5 seconds. Must be positive.</value>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Gets or sets the longest wait between delivery attempts of one write.</summary>
    /// <value>Defaults to 5 minutes. Must not be below <see cref="RetryDelay"/>.</value>
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Gets or sets how often replay tries a send when the integration has no health probe to say it recovered.</summary>
    /// <value>Defaults to 30 seconds. Must be at least 1 second.</value>
    public TimeSpan ReplayInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Gets or sets the queue depth above which the integration reads as Yellow even when its calls succeed.</summary>
    /// <value>Defaults to 1000. Must be at least 1.</value>
    public int BacklogYellowThreshold { get; set; } = 1000;

    /// <summary>Gets or sets how long a dead letter may wait for an operator before a Warning alert says so, once per oldest dead letter.</summary>
    /// <value>Defaults to 1 day. Must be between 1 minute and 365 days.</value>
    public TimeSpan DeadLetterWarningAge { get; set; } = TimeSpan.FromDays(1);

    /// <summary>Gets or sets how many writes are delivered at once. 1 keeps their order.</summary>
    /// <value>Defaults to 1. Must be between 1 and 64.</value>
    public int ReplayConcurrency { get; set; } = 1;
}
