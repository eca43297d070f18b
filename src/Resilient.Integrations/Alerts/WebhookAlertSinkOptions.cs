namespace Resilient.Integrations.Alerts;

/// <summary>Options of the <see cref="WebhookAlertSink"/>.</summary>
public sealed class WebhookAlertSinkOptions
{
    /// <summary>The name of the <see cref="HttpClient"/> the webhook sink posts with.</summary>
    public const string HttpClientName = "Resilient.Integrations.AlertWebhook";

    /// <summary>Gets or sets the incoming-webhook address (Slack, Microsoft Teams, or any endpoint taking <c>{"text": "…"}</c>). The address is a secret: it is never logged.</summary>
    /// <value>Required; must be an absolute http or https address.</value>
    public Uri? Url { get; set; }

    /// <summary>Gets or sets the lowest severity posted.</summary>
    /// <value>Defaults to <see cref="AlertSeverity.Warning"/>.</value>
    public AlertSeverity MinimumSeverity { get; set; } = AlertSeverity.Warning;
}
