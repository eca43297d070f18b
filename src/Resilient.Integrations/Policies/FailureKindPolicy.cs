using Resilient.Integrations.Alerts;

namespace Resilient.Integrations.Policies;

/// <summary>How an integration responds to one <see cref="Classification.FailureKind"/>: how often to retry, how long to wait, whom to alert.</summary>
public sealed class FailureKindPolicy
{
    /// <summary>Gets or sets how many times a call failing with this kind is retried.</summary>
    /// <value>Defaults to 0; the integration's defaults set it per kind. Must be between 0 and 100.</value>
    public int MaxRetries { get; set; }

    /// <summary>Gets or sets the first backoff delay; each further retry for this kind doubles it.</summary>
    /// <value>Defaults to 1 second. Must not be negative.</value>
    public TimeSpan BaseDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Gets or sets the longest wait before a retry. A server hint longer than this is not waited for: the
    /// failure surfaces at once, so a fallback can serve.
    /// </summary>
    /// <value>Defaults to 30 seconds (60 seconds for rate limits). Must be positive and not below <see cref="BaseDelay"/>.</value>
    public TimeSpan MaxDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Gets or sets a value indicating whether backoff delays are spread randomly (±25%) so clients do not retry in lockstep.</summary>
    /// <value>Defaults to <see langword="true"/>.</value>
    public bool UseJitter { get; set; } = true;

    /// <summary>Gets or sets the severity of the alert raised when a call finally fails with this kind; <see langword="null"/> raises none.</summary>
    /// <value>Defaults to <see langword="null"/>; the integration's defaults set it per kind.</value>
    public AlertSeverity? Alert { get; set; }
}
