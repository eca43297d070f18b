namespace Resilient.Integrations.Alerts;

/// <summary>Options of the alert dispatcher, shared by all integrations (configuration section <c>ResilientIntegrations:Alerts</c>).</summary>
public sealed class AlertOptions
{
    /// <summary>
    /// Gets or sets how long repeats of an alert for the same integration and failure kind are suppressed after one
    /// was sent. A more severe alert is never held back; a recovery that has settled ends the episode and with it
    /// every cooldown of the integration.
    /// </summary>
    /// <value>Defaults to 5 minutes. Must not be negative; zero sends every repeat.</value>
    public TimeSpan Cooldown { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// Gets or sets how long an integration must stay Green before its recovery counts: only then is "recovered"
    /// announced (once per episode) and the episode ended, so that the next failure alerts at once. A return to
    /// Yellow or Red before then calls the recovery off and the episode, with its cooldowns, goes on, so health
    /// that flaps between Green and Red raises no storm of alerts.
    /// </summary>
    /// <value>Defaults to 1 minute. Must be between zero and one day; zero ends the episode at the first return to Green.</value>
    public TimeSpan SettleTime { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// Gets or sets how long one sink may take to deliver one alert before it is abandoned, in real time (it bounds real I/O, whatever the injected clock). A sink that fails or
    /// times out is backed off (1 second, doubling, at most 5 minutes) and later gets one summary of the alerts it missed.
    /// </summary>
    /// <value>Defaults to 10 seconds. Must be positive and at most 1 day.</value>
    public TimeSpan SinkTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Gets or sets how many alerts may wait for delivery to one sink; each sink has its own queue. When a queue is
    /// full its oldest alert is dropped (logged, counted and summarised to that sink later) rather than blocking a request.
    /// </summary>
    /// <value>Defaults to 1024. Must be between 1 and 1,000,000.</value>
    public int QueueCapacity { get; set; } = 1024;

    /// <summary>Gets or sets a value indicating whether alerts are also written to the log.</summary>
    /// <value>Defaults to <see langword="true"/>.</value>
    public bool LogAlerts { get; set; } = true;
}
