using System.Globalization;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using Resilient.Integrations.Classification;

namespace Resilient.Integrations.Alerts;

/// <summary>
/// Opens and resolves PagerDuty incidents through the Events API v2. An alert triggers an event whose <c>dedup_key</c>
/// is stable per integration, failure kind and topic, so repeats join one incident; the "recovered" notice that ends
/// the integration's alert episode resolves each incident the episode triggered. A non-success answer counts as a
/// failed delivery.
/// </summary>
/// <remarks>
/// Severity maps to PagerDuty's: Critical to <c>critical</c>, Warning to <c>warning</c>, Info to <c>info</c>.
/// The incidents to resolve are known from the episode and from what this sink triggered since the app started; an
/// incident left open across a restart is resolved by the next recovery of the same kind only if it alerts again.
/// A "recovered" notice missed while PagerDuty was unreachable still resolves, from the summary the sink gets
/// afterwards; a summary whose integrations have all recovered since opens no incident.
/// </remarks>
public sealed class PagerDutyAlertSink : IAlertSink
{
    /// <summary>PagerDuty's limit on an event's summary.</summary>
    internal const int MaxSummary = 1024;

    /// <summary>PagerDuty's limit on a dedup key.</summary>
    internal const int MaxDedupKey = 255;

    private readonly IHttpClientFactory _clients;
    private readonly PagerDutyAlertSinkOptions _options;

    // What this sink triggered and has not resolved, per integration. The sink is never called concurrently.
    private readonly Dictionary<string, HashSet<string>> _open = new(StringComparer.Ordinal);

    /// <summary>Creates the sink.</summary>
    /// <param name="clients">Creates the <see cref="PagerDutyAlertSinkOptions.HttpClientName"/> client.</param>
    /// <param name="options">The options.</param>
    public PagerDutyAlertSink(IHttpClientFactory clients, IOptions<PagerDutyAlertSinkOptions> options)
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
        if (alert.Resolves is { } ended)
        {
            await ResolveAsync(alert, ended, cancellationToken).ConfigureAwait(false);
            return;
        }

        // A summary of what this sink missed may hold recoveries: they still resolve what they end.
        foreach (var recovery in alert.Recoveries ?? [])
        {
            await ResolveAsync(recovery, recovery.Resolves!, cancellationToken).ConfigureAwait(false);
        }

        if (alert.Severity < _options.MinimumSeverity || alert.AllRecovered)
        {
            return;
        }

        string key = DedupKey(alert.Integration, alert.Kind, alert.Topic);
        await PostAsync(Trigger(alert, key), cancellationToken).ConfigureAwait(false);
        if (!_open.TryGetValue(alert.Integration, out var open))
        {
            _open[alert.Integration] = open = new HashSet<string>(StringComparer.Ordinal);
        }

        open.Add(key);
    }

    /// <summary>The dedup key of an alert's identity: readable, and hashed only when PagerDuty's 255 characters would not hold it.</summary>
    internal static string DedupKey(string integration, FailureKind kind, string? topic)
    {
        string key = topic is null ? $"resilient-integrations/{integration}/{kind}" : $"resilient-integrations/{integration}/{kind}/{topic}";
        return key.Length <= MaxDedupKey
            ? key
            : "resilient-integrations/sha256/" + Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(key)));
    }

    private async Task ResolveAsync(Alert recovery, IReadOnlyList<(FailureKind Kind, string? Topic)> ended, CancellationToken cancellationToken)
    {
        var keys = new SortedSet<string>(ended.Select(e => DedupKey(recovery.Integration, e.Kind, e.Topic)), StringComparer.Ordinal);
        if (_open.TryGetValue(recovery.Integration, out var open))
        {
            keys.UnionWith(open);
        }

        // One resolve per incident; a failure throws before the rest, and the whole notice is retried in the summary.
        foreach (var key in keys)
        {
            await PostAsync(Resolve(key), cancellationToken).ConfigureAwait(false);
            open?.Remove(key);
        }
    }

    private JsonObject Trigger(Alert alert, string key)
    {
        var details = new JsonObject { ["message"] = alert.Message };
        if (alert.SuppressedCount > 0)
        {
            details["repeats_suppressed"] = alert.SuppressedCount;
        }

        foreach (var (name, value) in alert.Details)
        {
            details[name] = value;
        }

        string summary = alert.ToString();
        return new JsonObject
        {
            ["routing_key"] = _options.RoutingKey,
            ["event_action"] = "trigger",
            ["dedup_key"] = key,
            ["client"] = "Resilient.Integrations",
            ["payload"] = new JsonObject
            {
                ["summary"] = summary.Length <= MaxSummary ? summary : summary[..(MaxSummary - 1)] + "…",
                ["source"] = _options.Source,
                ["severity"] = alert.Severity switch
                {
                    AlertSeverity.Critical => "critical",
                    AlertSeverity.Warning => "warning",
                    _ => "info",
                },
                ["timestamp"] = alert.Time.ToString("o", CultureInfo.InvariantCulture),
                ["component"] = alert.Integration,
                ["group"] = _options.Group,
                ["class"] = alert.Kind.ToString(),
                ["custom_details"] = details,
            },
        };
    }

    private JsonObject Resolve(string key) => new()
    {
        ["routing_key"] = _options.RoutingKey,
        ["event_action"] = "resolve",
        ["dedup_key"] = key,
    };

    private async Task PostAsync(JsonObject body, CancellationToken cancellationToken)
    {
        using var content = new StringContent(body.ToJsonString(), Encoding.UTF8);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        using var client = _clients.CreateClient(PagerDutyAlertSinkOptions.HttpClientName);
        using var response = await client.PostAsync(_options.Endpoint, content, cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            // Only the status: the body of a rejected event is not worth the risk of echoing the routing key.
            throw new HttpRequestException($"PagerDuty answered {(int)response.StatusCode}.", null, response.StatusCode);
        }
    }
}
