using Resilient.Integrations.Alerts;

namespace Resilient.Integrations.Policies;

/// <summary>The circuit breaker of an integration. It counts only Unavailable and Timeout failures: a 429 or a 401 never opens it.</summary>
public sealed class CircuitBreakerPolicy
{
    /// <summary>Gets or sets the share of counted failures among sampled calls that opens the circuit.</summary>
    /// <value>Defaults to 0.5. Must be greater than 0 and at most 1.</value>
    public double FailureRatio { get; set; } = 0.5;

    /// <summary>Gets or sets how many calls the sampling window must hold before the circuit may open.</summary>
    /// <value>Defaults to 10. Must be at least 2.</value>
    public int MinimumThroughput { get; set; } = 10;

    /// <summary>Gets or sets the sampling window.</summary>
    /// <value>Defaults to 30 seconds. Must be between 0.5 seconds and 24 hours.</value>
    public TimeSpan SamplingDuration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Gets or sets how long the circuit stays open, failing calls at once without touching the upstream.</summary>
    /// <value>Defaults to 30 seconds. Must be between 0.5 seconds and 24 hours.</value>
    public TimeSpan BreakDuration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Gets or sets the severity of the alert raised when the circuit opens; <see langword="null"/> raises none.</summary>
    /// <value>Defaults to <see cref="AlertSeverity.Critical"/>.</value>
    public AlertSeverity? Alert { get; set; } = AlertSeverity.Critical;

    /// <summary>
    /// Gets or sets a value indicating whether each request authority (scheme, host and port) has a circuit of its own,
    /// for an integration that calls many tenants' hosts: one tenant's dead host opens only its own circuit, and the
    /// alert names the host. The integration turns Yellow while any host's circuit is open, never Red for one host:
    /// live calls that fail as Unavailable or Timeout are then not fed to its health (health probes still are).
    /// </summary>
    /// <value>Defaults to <see langword="false"/>: one circuit for the whole integration.</value>
    public bool PerHost { get; set; }

    /// <summary>
    /// Gets or sets how many hosts' circuits are kept when <see cref="PerHost"/> is on. A circuit unused for four
    /// times the longer of <see cref="SamplingDuration"/> and <see cref="BreakDuration"/> is dropped; past the bound,
    /// the least recently used is dropped first.
    /// </summary>
    /// <value>Defaults to 1000. Must be between 1 and 100,000.</value>
    public int MaxHosts { get; set; } = 1000;
}
