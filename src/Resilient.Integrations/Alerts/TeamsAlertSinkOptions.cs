namespace Resilient.Integrations.Alerts;

/// <summary>Options of the <see cref="TeamsAlertSink"/> (configuration keys under <c>ResilientIntegrations:Alerts:Teams</c>).</summary>
public sealed class TeamsAlertSinkOptions
{
    /// <summary>The name of the <see cref="HttpClient"/> the Teams sink posts with.</summary>
    public const string HttpClientName = "Resilient.Integrations.AlertTeams";

    /// <summary>
    /// Gets or sets the address of a Teams Workflows webhook (the Power Automate trigger "When a Teams webhook request
    /// is received"). The address carries its signature, so it is a secret: it is never logged.
    /// </summary>
    /// <value>Required; must be an absolute http or https address.</value>
    public Uri? Url { get; set; }

    /// <summary>Gets or sets the lowest severity posted.</summary>
    /// <value>Defaults to <see cref="AlertSeverity.Warning"/>.</value>
    public AlertSeverity MinimumSeverity { get; set; } = AlertSeverity.Warning;
}
