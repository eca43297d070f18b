namespace Resilient.Integrations.Policies;

/// <summary>
/// Client-side pacing: when the server says the quota is spent (remaining 0) or answers 429 with a hint, new
/// requests of the integration wait for the reset instead of running into more 429s.
/// </summary>
public sealed class PacingPolicy
{
    /// <summary>Gets or sets a value indicating whether requests are held until a rate-limit reset.</summary>
    /// <value>Defaults to <see langword="true"/>.</value>
    public bool Enabled { get; set; } = true;

    /// <summary>Gets or sets the longest a request is held. A longer reset fails the request at once as RateLimit.</summary>
    /// <value>Defaults to 60 seconds. Must not be negative.</value>
    public TimeSpan MaxWait { get; set; } = TimeSpan.FromSeconds(60);
}
