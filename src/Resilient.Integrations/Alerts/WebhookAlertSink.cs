using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.Extensions.Options;

namespace Resilient.Integrations.Alerts;

/// <summary>
/// Posts alerts as JSON (<c>{"text": "…"}</c>) to an incoming webhook, the shape Slack accepts. A non-success answer
/// counts as a failed delivery. Microsoft Teams Workflows take Adaptive Cards only: use <see cref="TeamsAlertSink"/>.
/// </summary>
public sealed partial class WebhookAlertSink : IAlertSink
{
    private readonly IHttpClientFactory _clients;
    private readonly WebhookAlertSinkOptions _options;

    /// <summary>Creates the sink.</summary>
    /// <param name="clients">Creates the <see cref="WebhookAlertSinkOptions.HttpClientName"/> client.</param>
    /// <param name="options">The options.</param>
    public WebhookAlertSink(IHttpClientFactory clients, IOptions<WebhookAlertSinkOptions> options)
    {
        ArgumentNullException.ThrowIfNull(clients);
        ArgumentNullException.ThrowIfNull(options);
        _clients = clients;
        _options = options.Value;
    }

    /// <inheritdoc/>
    public async ValueTask SendAsync(Alert alert, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(alert);
        if (alert.Severity < _options.MinimumSeverity)
        {
            return;
        }

        var url = _options.Url ?? throw new InvalidOperationException("WebhookAlertSinkOptions.Url is not set.");
        var payload = new WebhookPayload(Render(alert));
        using var client = _clients.CreateClient(WebhookAlertSinkOptions.HttpClientName);
        using var response = await client.PostAsJsonAsync(url, payload, WebhookJson.Default.WebhookPayload, cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            // Deliberately without the address: a webhook URL is a credential.
            throw new HttpRequestException($"The alert webhook answered {(int)response.StatusCode}.", null, response.StatusCode);
        }
    }

    private static string Render(Alert alert)
    {
        string icon = alert.Severity switch
        {
            AlertSeverity.Critical => ":rotating_light:",
            AlertSeverity.Warning => ":warning:",
            _ => ":information_source:",
        };
        var text = $"{icon} {alert}";
        return alert.Details.Count == 0
            ? text
            : text + "\n" + string.Join("\n", alert.Details.Select(d => $"• {d.Key}: {d.Value}"));
    }

    internal sealed record WebhookPayload([property: JsonPropertyName("text")] string Text);

    [JsonSerializable(typeof(WebhookPayload))]
    internal sealed partial class WebhookJson : JsonSerializerContext;
}
