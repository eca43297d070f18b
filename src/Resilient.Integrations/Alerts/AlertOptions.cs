namespace Resilient.Integrations.Alerts;

/// <summary>Options of the alert dispatcher, shared by all integrations (configuration section <c>ResilientIntegrations:Alerts</c>).</summary>
public sealed class AlertOptions
{
    /// <summary>Gets or sets how long repeats of an alert for the same integration and failure kind are suppressed after one was sent.</summary>
    /// <value>Defaults to 5 minutes. Must not be negative; zero sends every repeat.</value>
    public TimeSpan Cooldown { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Gets or sets how long one sink may take to deliver one alert before it is abandoned.</summary>
    /// <value>Defaults to 10 seconds. Must be positive.</value>
    public TimeSpan SinkTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Gets or sets how many alerts may wait for delivery; more are dropped (and counted) rather than blocking a request.</summary>
    /// <value>Defaults to 1024. Must be between 1 and 1,000,000.</value>
    public int QueueCapacity { get; set; } = 1024;

    /// <summary>Gets or sets a value indicating whether alerts are also written to the log.</summary>
    /// <value>Defaults to <see langword="true"/>.</value>
    public bool LogAlerts { get; set; } = true;
}
