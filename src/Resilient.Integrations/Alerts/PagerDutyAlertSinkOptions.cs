namespace Resilient.Integrations.Alerts;

/// <summary>Options of the <see cref="PagerDutyAlertSink"/> (configuration keys under <c>ResilientIntegrations:Alerts:PagerDuty</c>).</summary>
public sealed class PagerDutyAlertSinkOptions
{
    /// <summary>The name of the <see cref="HttpClient"/> the PagerDuty sink posts with.</summary>
    public const string HttpClientName = "Resilient.Integrations.AlertPagerDuty";

    /// <summary>The Events API v2 address of PagerDuty's US service region.</summary>
    public static readonly Uri DefaultEndpoint = new("https://events.pagerduty.com/v2/enqueue");

    /// <summary>
    /// Gets or sets the integration key of the PagerDuty service's "Events API v2" integration. It is a secret: it is
    /// sent in the request body only, never logged nor put in an alert or an exception's message.
    /// </summary>
    /// <value>Required.</value>
    public string? RoutingKey { get; set; }

    /// <summary>Gets or sets the Events API v2 address, e.g. <c>https://events.eu.pagerduty.com/v2/enqueue</c> for the EU service region.</summary>
    /// <value>Defaults to <see cref="DefaultEndpoint"/>. Must be an absolute http or https address.</value>
    public Uri Endpoint { get; set; } = DefaultEndpoint;

    /// <summary>Gets or sets the event's <c>source</c>: where the problem is seen, e.g. the app's name and environment.</summary>
    /// <value>Defaults to <see cref="Environment.MachineName"/>.</value>
    public string Source { get; set; } = Environment.MachineName;

    /// <summary>Gets or sets the event's <c>group</c>, the logical grouping PagerDuty shows, e.g. <c>billing-api</c>.</summary>
    /// <value>Defaults to <c>integrations</c>.</value>
    public string Group { get; set; } = "integrations";

    /// <summary>
    /// Gets or sets the lowest severity that triggers an incident. The "recovered" notice that ends an alert episode
    /// always goes out, as a resolve of the incidents the episode triggered.
    /// </summary>
    /// <value>Defaults to <see cref="AlertSeverity.Warning"/>.</value>
    public AlertSeverity MinimumSeverity { get; set; } = AlertSeverity.Warning;
}
