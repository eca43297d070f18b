using Microsoft.Extensions.DependencyInjection;
using Resilient.Integrations.Alerts;
using Resilient.Integrations.Classification;
using Resilient.Integrations.Health;
using Resilient.Integrations.Tests.Support;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;

namespace Resilient.Integrations.Tests.Alerts;

/// <summary>Random faults at high concurrency flap health many times a second; the alerts must not flap with it.</summary>
public sealed class AlertStormTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Send_RandomFaultsAtHighConcurrency_OneAlertPerKindAndSeverityThenOneRecoveredOnceSettled()
    {
        await using var h = IntegrationHarness.Create(o =>
        {
            foreach (var kind in Enum.GetValues<FailureKind>())
            {
                o.PolicyFor(kind).MaxRetries = 0;                   // one attempt per call: no waits to jump
            }

            o.CircuitBreaker.FailureRatio = 0.9;                    // health flaps; the circuit stays closed
        });
        Serve(h, "/ok", 200, """{"ok":true}""");
        Serve(h, "/down", 503, """{"error":{"message":"down"}}""");
        Serve(h, "/limited", 429, """{"error":{"message":"slow down"}}""");
        Serve(h, "/auth", 401, """{"error":{"message":"token expired"}}""");
        Serve(h, "/truncated", 200, """{"data":[1,2""");
        using var suppressed = h.Metric("resilient_integrations.alerts.suppressed");
        var client = h.Client;

        // 2,000 calls, 100 at a time, 30% failing at random (a short window of refused tokens among them), with the
        // clock moving 2 ms per call: 4 s in all, well inside the cooldown (5 min) and the settle time (1 min).
        var random = new Random(20261123);
        var paths = Enumerable.Range(0, 2000).Select(i => random.NextDouble() switch
        {
            < 0.05 when i is >= 800 and < 900 => "/auth",
            < 0.15 => "/down",
            < 0.22 => "/limited",
            < 0.30 => "/truncated",
            _ => "/ok",
        }).ToList();
        await Parallel.ForEachAsync(paths, new ParallelOptions { MaxDegreeOfParallelism = 100, CancellationToken = Ct }, async (path, ct) =>
        {
            try
            {
                using var response = await client.GetAsync(path, ct);
            }
            catch (IntegrationFailureException)
            {
            }

            h.Clock.Advance(TimeSpan.FromMilliseconds(2));
        });

        var storm = await h.SettledAlertsAsync();
        Assert.DoesNotContain(storm, a => a.Severity == AlertSeverity.Info);  // never Green for the settle time
        Assert.All(storm.GroupBy(a => a.Kind), g => Assert.Equal(g.Select(a => a.Severity).Distinct().Order(), g.Select(a => a.Severity)));
        Assert.InRange(storm.Count, 4, 6);                            // Auth, Unavailable, RateLimit, BadResponse; escalations
        Assert.Contains(storm, a => a.Kind == FailureKind.Auth && a.Severity == AlertSeverity.Critical);

        for (int i = 0; i < 3; i++)
        {
            using var response = await client.GetAsync("/ok", Ct);
        }

        Assert.Equal(HealthState.Green, h.Provider.GetRequiredService<IIntegrationHealthMonitor>().Get(IntegrationHarness.Name).State);
        h.Clock.Advance(TimeSpan.FromMinutes(1));

        var alerts = await h.SettledAlertsAsync();
        var recovered = Assert.Single(alerts, a => a.Severity == AlertSeverity.Info);
        Assert.Equal(storm.Count + 1, alerts.Count);
        Assert.True(recovered.SuppressedCount > 0);

        // Every suppressed repeat is reported: on the next alert of its kind, or on the recovery.
        Assert.Equal(suppressed.GetMeasurementSnapshot().Sum(m => m.Value), alerts.Sum(a => a.SuppressedCount));
    }

    private static void Serve(IntegrationHarness h, string path, int status, string body) =>
        h.Server.Given(Request.Create().WithPath(path).UsingGet())
            .RespondWith(Response.Create().WithStatusCode(status).WithHeader("Content-Type", "application/json").WithBody(body));
}
