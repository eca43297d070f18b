using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;

namespace Resilient.Integrations.Alerts;

/// <summary>
/// Posts alerts to a Microsoft Teams channel through a Workflows webhook, as an Adaptive Card: Workflows take Adaptive
/// Cards only, not the MessageCard of the retired Office 365 connectors. A non-success answer counts as a failed delivery.
/// </summary>
public sealed class TeamsAlertSink : IAlertSink
{
    /// <summary>The Adaptive Card version posted: 1.4 renders on every Teams client.</summary>
    internal const string CardVersion = "1.4";

    private readonly IHttpClientFactory _clients;
    private readonly TeamsAlertSinkOptions _options;

    /// <summary>Creates the sink.</summary>
    /// <param name="clients">Creates the <see cref="TeamsAlertSinkOptions.HttpClientName"/> client.</param>
    /// <param name="options">The options.</param>
    public TeamsAlertSink(IHttpClientFactory clients, IOptions<TeamsAlertSinkOptions> options)
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

        var url = _options.Url ?? throw new InvalidOperationException("TeamsAlertSinkOptions.Url is not set.");
        using var content = new StringContent(Message(alert).ToJsonString(), Encoding.UTF8);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        using var client = _clients.CreateClient(TeamsAlertSinkOptions.HttpClientName);
        using var response = await client.PostAsync(url, content, cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            // Deliberately without the address: it carries the workflow's signature.
            throw new HttpRequestException($"The Teams workflow webhook answered {(int)response.StatusCode}.", null, response.StatusCode);
        }
    }

    /// <summary>The message a Workflows webhook takes: one Adaptive Card attachment.</summary>
    internal static JsonObject Message(Alert alert) => new()
    {
        ["type"] = "message",
        ["attachments"] = new JsonArray(new JsonObject
        {
            ["contentType"] = "application/vnd.microsoft.card.adaptive",
            ["content"] = Card(alert),
        }),
    };

    private static JsonObject Card(Alert alert)
    {
        var facts = new JsonArray(Fact("Severity", alert.Severity.ToString()));
        if (alert.Kind != Classification.FailureKind.None)
        {
            facts.Add((JsonNode)Fact("Failure kind", alert.Kind.ToString()));
        }

        facts.Add((JsonNode)Fact("Time", alert.Time.ToString("u", CultureInfo.InvariantCulture)));
        if (alert.SuppressedCount > 0)
        {
            facts.Add((JsonNode)Fact("Repeats suppressed", alert.SuppressedCount.ToString(CultureInfo.InvariantCulture)));
        }

        foreach (var (key, value) in alert.Details)
        {
            facts.Add((JsonNode)Fact(key, value));
        }

        return new JsonObject
        {
            ["$schema"] = "http://adaptivecards.io/schemas/adaptive-card.json",
            ["type"] = "AdaptiveCard",
            ["version"] = CardVersion,
            ["msteams"] = new JsonObject { ["width"] = "Full" },
            ["body"] = new JsonArray(
                new JsonObject
                {
                    ["type"] = "TextBlock",
                    ["text"] = $"{alert.Severity}: {alert.Integration}",
                    ["size"] = "Medium",
                    ["weight"] = "Bolder",

                    // Colour backs up the words, never replaces them.
                    ["color"] = alert.Severity switch
                    {
                        AlertSeverity.Critical => "Attention",
                        AlertSeverity.Warning => "Warning",
                        _ => "Good",
                    },
                    ["wrap"] = true,
                },
                new JsonObject { ["type"] = "TextBlock", ["text"] = alert.Message, ["wrap"] = true },
                new JsonObject { ["type"] = "FactSet", ["facts"] = facts }),
        };
    }

    // JsonNode, not JsonObject: the generic JsonArray.Add<T> is not trimming-safe.
    private static JsonObject Fact(string title, string value) => new() { ["title"] = title, ["value"] = value };
}
