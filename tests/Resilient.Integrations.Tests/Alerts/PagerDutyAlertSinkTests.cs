using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Resilient.Integrations.Alerts;
using Resilient.Integrations.Classification;
using Resilient.Integrations.Tests.Support;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;

namespace Resilient.Integrations.Tests.Alerts;

/// <summary>
/// The PagerDuty sink against a loopback stand-in for the Events API v2 (POST /v2/enqueue answered 202 with
/// status, message and dedup_key), checking the event shape PagerDuty documents for trigger and resolve:
/// https://developer.pagerduty.com/docs/events-api-v2/trigger-events/ and
/// https://developer.pagerduty.com/docs/events-api-v2/resolve-events/.
/// </summary>
public sealed class PagerDutyAlertSinkTests
{
    // Shaped like an Events API v2 integration key (32 characters).
    private const string RoutingKey = "R0UT1NGk3y0123456789abcdefABCDEF";

    private static readonly string[] Severities = ["critical", "error", "warning", "info"];

    private static IntegrationHarness Create(int status = 202) => Configure(IntegrationHarness.Create(build: b => b
        .AddPagerDutyAlertSink(o =>
        {
            o.RoutingKey = RoutingKey;
            o.Endpoint = new Uri(HarnessUrl.Of(b) + "/v2/enqueue");
            o.Source = "web-1.example";
            o.Group = "billing-api";
        })
        .ConfigureAlerts(a => a.SettleTime = TimeSpan.Zero)), status);

    private static IntegrationHarness Configure(IntegrationHarness h, int status)
    {
        h.Server.Given(Request.Create().WithPath("/v2/enqueue").UsingPost()).RespondWith(Response.Create()
            .WithStatusCode(status)
            .WithHeader("Content-Type", "application/json")
            .WithBody(status == 202
                ? """{"status":"success","message":"Event processed","dedup_key":"echoed"}"""
                : $$"""{"status":"invalid event","message":"Event object is invalid","errors":["routing_key {{RoutingKey}} unknown"]}"""));
        h.Server.Given(Request.Create().WithPath("/call").UsingGet()).RespondWith(Response.Create().WithStatusCode(401));
        return h;
    }

    private static List<JsonElement> Events(IntegrationHarness h, string action) =>
        [.. h.Server.LogEntries
            .Where(e => e.RequestMessage?.Path == "/v2/enqueue")
            .Select(e => JsonDocument.Parse(e.RequestMessage!.Body!).RootElement)
            .Where(e => e.GetProperty("event_action").GetString() == action)];

    /// <summary>What the health layer publishes on a return to Green; with SettleTime zero, "recovered" goes out at once.</summary>
    private static void PublishRecovery(IntegrationHarness h) =>
        h.Provider.GetRequiredService<IAlertDispatcher>().Publish(new Alert
        {
            Integration = IntegrationHarness.Name,
            Severity = AlertSeverity.Info,
            Message = "recovered after less than a minute",
            HealthChange = true,
            Recovery = true,
        });

    private static HashSet<string?> AcceptedResolves(IntegrationHarness h) =>
        [.. h.Server.LogEntries
            .Where(e => e.RequestMessage?.Path == "/v2/enqueue" && e.ResponseMessage?.StatusCode?.ToString() == "202")
            .Select(e => JsonDocument.Parse(e.RequestMessage!.Body!).RootElement)
            .Where(e => e.GetProperty("event_action").GetString() == "resolve")
            .Select(e => e.GetProperty("dedup_key").GetString())];

    [Fact]
    public async Task SendAsync_AuthFailure_TriggersEventWithDocumentedFields()
    {
        await using var h = Create();

        await h.GetAsync();
        await Eventually.WaitUntilAsync(() => Events(h, "trigger").Count > 0);

        await h.Alerts.WaitForAsync(a => a.Kind == FailureKind.Auth);
        var trigger = Events(h, "trigger").First();
        Assert.Equal(RoutingKey, trigger.GetProperty("routing_key").GetString());
        string key = trigger.GetProperty("dedup_key").GetString()!;
        Assert.InRange(key.Length, 1, 255);
        Assert.Contains("crm", key, StringComparison.Ordinal);

        var payload = trigger.GetProperty("payload");
        string summary = payload.GetProperty("summary").GetString()!;
        Assert.InRange(summary.Length, 1, 1024);
        Assert.StartsWith("[Critical] crm: Auth failure", summary, StringComparison.Ordinal);
        Assert.Equal("web-1.example", payload.GetProperty("source").GetString());
        Assert.Equal("critical", payload.GetProperty("severity").GetString());
        Assert.Contains(payload.GetProperty("severity").GetString(), Severities);
        var raised = h.Alerts.Alerts.First(a => a.Kind == FailureKind.Auth);
        Assert.Equal(raised.Time, DateTimeOffset.Parse(payload.GetProperty("timestamp").GetString()!, CultureInfo.InvariantCulture));
        Assert.Equal("crm", payload.GetProperty("component").GetString());
        Assert.Equal("billing-api", payload.GetProperty("group").GetString());
        Assert.Equal("Auth", payload.GetProperty("class").GetString());
        Assert.Contains("Auth failure on GET /call", payload.GetProperty("custom_details").GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.DoesNotContain(RoutingKey, summary, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SendAsync_Recovered_ResolvesWithTheTriggeredDedupKey()
    {
        await using var h = Create();
        await h.GetAsync();
        await Eventually.WaitUntilAsync(() => Events(h, "trigger").Count > 0);

        PublishRecovery(h);
        await h.Alerts.WaitForAsync(a => a.Message.StartsWith("recovered after", StringComparison.Ordinal));
        await h.SettledAlertsAsync();

        var triggered = Events(h, "trigger").Select(e => e.GetProperty("dedup_key").GetString()).ToHashSet();
        var resolves = Events(h, "resolve");
        Assert.NotEmpty(resolves);
        Assert.Superset(triggered, resolves.Select(e => e.GetProperty("dedup_key").GetString()).ToHashSet());
        Assert.All(resolves, r => Assert.Equal(RoutingKey, r.GetProperty("routing_key").GetString()));

        // The recovered notice itself opens nothing.
        Assert.DoesNotContain(Events(h, "trigger"), e => e.GetProperty("payload").GetProperty("severity").GetString() == "info");
    }

    [Fact]
    public async Task SendAsync_RecoveredWhilePagerDutyFailing_ResolvedFromTheMissedSummary()
    {
        await using var h = Create();
        using var failures = h.Metric("resilient_integrations.alerts.sink_failures");
        await h.GetAsync();
        await Eventually.WaitUntilAsync(() => Events(h, "trigger").Count > 0);
        await h.SettledAlertsAsync();
        var triggered = Events(h, "trigger").Select(e => e.GetProperty("dedup_key").GetString()).ToHashSet();

        // PagerDuty fails the resolve: the sink is backed off and the recovery is kept for its summary.
        h.Server.ResetMappings();
        Configure(h, status: 503);
        PublishRecovery(h);
        await failures.WaitForMeasurementsAsync(1, Eventually.Deadline);

        h.Server.ResetMappings();
        Configure(h, status: 202);
        h.Clock.Advance(Resilient.Integrations.Alerts.Internal.SinkLane.FirstBackoff);
        await Eventually.WaitUntilAsync(() => AcceptedResolves(h).IsSupersetOf(triggered));
        await h.SettledAlertsAsync();

        // The summary ("this sink missed 1 alert"), all of whose integrations recovered, opens nothing.
        Assert.Equal(triggered, Events(h, "trigger").Select(e => e.GetProperty("dedup_key").GetString()).ToHashSet());
        Assert.DoesNotContain(Events(h, "trigger"), e => e.GetProperty("payload").GetProperty("summary").GetString()!.Contains("missed", StringComparison.Ordinal));
    }

    [Fact]
    public async Task SendAsync_PagerDutyRejectsEvent_CountedAsSinkFailureWithoutLeakingRoutingKey()
    {
        await using var h = Create(status: 400);
        using var failures = h.Metric("resilient_integrations.alerts.sink_failures");

        await h.GetAsync();
        await failures.WaitForMeasurementsAsync(1, Eventually.Deadline);

        Assert.Contains(h.Logs.GetSnapshot(), r => r.Message.Contains("PagerDutyAlertSink failed", StringComparison.Ordinal) && r.Message.Contains("400", StringComparison.Ordinal));
        Assert.DoesNotContain(h.Logs.GetSnapshot(), r => r.Message.Contains(RoutingKey, StringComparison.Ordinal));
        Assert.DoesNotContain(h.Alerts.Alerts, a => a.ToString().Contains(RoutingKey, StringComparison.Ordinal));
    }

    [Fact]
    public void DedupKey_SameIdentity_SameKeyAndWithinPagerDutysLimit()
    {
        Assert.Equal(PagerDutyAlertSink.DedupKey("crm", FailureKind.Auth, null), PagerDutyAlertSink.DedupKey("crm", FailureKind.Auth, null));
        Assert.NotEqual(PagerDutyAlertSink.DedupKey("crm", FailureKind.Auth, null), PagerDutyAlertSink.DedupKey("crm", FailureKind.Auth, "circuit"));
        Assert.NotEqual(PagerDutyAlertSink.DedupKey("crm", FailureKind.Auth, null), PagerDutyAlertSink.DedupKey("erp", FailureKind.Auth, null));

        string longName = new('x', 400);
        string key = PagerDutyAlertSink.DedupKey(longName, FailureKind.Timeout, null);
        Assert.InRange(key.Length, 1, 255);
        Assert.Equal(key, PagerDutyAlertSink.DedupKey(longName, FailureKind.Timeout, null));
    }

    [Fact]
    public void AddPagerDutyAlertSink_NoRoutingKey_FailsAtStartupNamingTheKey()
    {
        var services = new ServiceCollection();
        services.AddResilientIntegration("crm").AddPagerDutyAlertSink(o => o.Source = "web-1");
        using var provider = services.BuildServiceProvider();

        var ex = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IStartupValidator>().Validate());
        Assert.Contains("Alerts:PagerDuty:RoutingKey", ex.Message, StringComparison.Ordinal);
    }
}
