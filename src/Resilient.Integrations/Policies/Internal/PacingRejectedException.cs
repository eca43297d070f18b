namespace Resilient.Integrations.Policies.Internal;

/// <summary>A request would have had to wait for a rate-limit reset longer than the pacing cap or the time left.</summary>
internal sealed class PacingRejectedException(TimeSpan retryAfter)
    : Exception($"The rate limit resets in {retryAfter}, longer than the request may wait.")
{
    public TimeSpan RetryAfter { get; } = retryAfter;
}
