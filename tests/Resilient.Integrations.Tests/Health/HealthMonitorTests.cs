using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Resilient.Integrations.Alerts;
using Resilient.Integrations.Classification;
using Resilient.Integrations.Health;
using Resilient.Integrations.Tests.Support;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;

namespace Resilient.Integrations.Tests.Health;

public sealed class HealthMonitorTests
{
    private static readonly DateTimeOffset FiveFifty = new(2026, 11, 23, 5, 50, 0, TimeSpan.Zero);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static IntegrationHarness Create(TimeSpan interval) =>
        IntegrationHarness.Create(
            build: b => b.AddHttpHealthProbe("/v1/models", o =>
            {
                o.Interval = interval;
                o.InitialDelay = TimeSpan.Zero;
                o.Jitter = TimeSpan.Zero;
            }),
            services: s => s.AddHealthChecks().AddResilientIntegrations(),
            start: FiveFifty);

    private static void Models(IntegrationHarness h, int status, params (string, string)[] headers)
    {
        h.Server.Reset();
        var response = Response.Create().WithStatusCode(status).WithHeader("Content-Type", "application/json").WithBody(status == 200 ? """{"data":[]}""" : """{"error":{"code":"x"}}""");
        foreach (var (name, value) in headers)
        {
            response = response.WithHeader(name, value);
        }

        h.Server.Given(Request.Create().WithPath("/v1/models").UsingGet()).RespondWith(response);
    }

    private static IIntegrationHealthMonitor Monitor(IntegrationHarness h) => h.Provider.GetRequiredService<IIntegrationHealthMonitor>();

    private static async Task StartProbesAsync(IntegrationHarness h)
    {
        await h.StartHostedServicesAsync();

        await ProbedAsync(h);
    }

    /// <summary>Waits (bounded, real time) until the probe due now has reported.</summary>
    private static async Task ProbedAsync(IntegrationHarness h)
    {
        var now = h.Clock.GetUtcNow();
        await Eventually.WaitUntilAsync(() => Monitor(h).Get(IntegrationHarness.Name).LastResultAt == now);
    }

    /// <summary>Waits until the scheduler has set its next run (a timer due then), so advancing cannot race it.</summary>
    private static Task ScheduledAsync(IntegrationHarness h, DateTimeOffset due) =>
        Eventually.WaitUntilAsync(() => h.Clock.HasTimerDueAt(due));

    private static async Task NextProbeAsync(IntegrationHarness h, TimeSpan after)
    {
        await ScheduledAsync(h, h.Clock.GetUtcNow() + after);
        h.Clock.Advance(after);
        await ProbedAsync(h);
    }

    [Fact]
    public async Task Probe_TokenExpiresAt0558_RedAt0600ProbeWithOneCriticalAlertBeforeAnyWorkflowCall()
    {
        await using var h = Create(TimeSpan.FromMinutes(5));
        Models(h, 200);
        await StartProbesAsync(h);                                  // 05:50
        await NextProbeAsync(h, TimeSpan.FromMinutes(5));           // 05:55
        Assert.Equal(HealthState.Green, Monitor(h).Get("crm").State);

        await ScheduledAsync(h, h.Clock.GetUtcNow() + TimeSpan.FromMinutes(5));
        h.Clock.Advance(TimeSpan.FromMinutes(3));                   // 05:58: the token expires
        Models(h, 401);
        h.Clock.Advance(TimeSpan.FromMinutes(2));                   // 06:00
        await ProbedAsync(h);

        var health = Monitor(h).Get("crm");
        Assert.Equal(HealthState.Red, health.State);
        Assert.Equal(new DateTimeOffset(2026, 11, 23, 6, 0, 0, TimeSpan.Zero), health.Since);
        Assert.Equal(FailureKind.Auth, health.LastFailureKind);
        await h.Alerts.WaitForAsync(1);
        var alert = Assert.Single(await h.SettledAlertsAsync());
        Assert.Equal(AlertSeverity.Critical, alert.Severity);
        Assert.Equal(FailureKind.Auth, alert.Kind);
        Assert.All(h.Server.LogEntries, e => Assert.Equal("/v1/models", e.RequestMessage!.Path)); // probes only
    }

    [Fact]
    public async Task Probe_RateLimited_YellowAndNoCriticalAlert()
    {
        await using var h = Create(TimeSpan.FromMinutes(1));
        Models(h, 429, ("retry-after", "2"));
        await StartProbesAsync(h);
        await NextProbeAsync(h, TimeSpan.FromMinutes(1));

        Assert.Equal(HealthState.Yellow, Monitor(h).Get("crm").State);
        await h.Alerts.WaitForAsync(1);
        var alerts = await h.SettledAlertsAsync();
        Assert.Equal(AlertSeverity.Warning, Assert.Single(alerts).Severity);
        Assert.DoesNotContain(alerts, a => a.Severity == AlertSeverity.Critical);
    }

    [Fact]
    public async Task Probe_ApiFlappingEveryProbe_NoAlertStorm()
    {
        await using var h = Create(TimeSpan.FromMinutes(1));
        Models(h, 200);
        await StartProbesAsync(h);
        for (int i = 0; i < 10; i++)
        {
            Models(h, i % 2 == 0 ? 503 : 200);
            await NextProbeAsync(h, TimeSpan.FromMinutes(1));
        }

        Assert.Equal(HealthState.Green, Monitor(h).Get("crm").State);
        Assert.Empty(await h.SettledAlertsAsync());
    }

    [Fact]
    public async Task Probe_DownThenRecovers_OneCriticalThenOneInfoRecoveredAlert()
    {
        await using var h = Create(TimeSpan.FromMinutes(1));
        Models(h, 200);
        await StartProbesAsync(h);                                  // Green
        Models(h, 503);
        await NextProbeAsync(h, TimeSpan.FromMinutes(1));
        await NextProbeAsync(h, TimeSpan.FromMinutes(1));           // Red (2 in a row)
        Assert.Equal(HealthState.Red, Monitor(h).Get("crm").State);
        for (int i = 0; i < 10; i++)
        {
            await NextProbeAsync(h, TimeSpan.FromMinutes(1));       // still down: no repeats
        }

        Models(h, 200);
        await NextProbeAsync(h, TimeSpan.FromMinutes(1));
        await NextProbeAsync(h, TimeSpan.FromMinutes(1));           // Green after 12 minutes Red
        Assert.Equal(HealthState.Green, Monitor(h).Get("crm").State);
        Assert.Single(await h.SettledAlertsAsync());                // not announced before it has settled

        await NextProbeAsync(h, TimeSpan.FromMinutes(1));           // Green for the settle time (1 minute)

        var alerts = await h.SettledAlertsAsync();
        Assert.Equal([AlertSeverity.Critical, AlertSeverity.Info], alerts.Select(a => a.Severity));
        Assert.StartsWith("recovered after 12 minutes", alerts[1].Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Report_FlappingGreenRedAndYellowFasterThanTheSettleTime_OneAlertPerKindThenOneRecoveredOnceSettled()
    {
        await using var h = IntegrationHarness.Create();
        Monitor(h).Report("crm", LiveSuccess);
        var kinds = new[] { FailureKind.Unavailable, FailureKind.BadResponse, FailureKind.Auth };
        for (int i = 0; i < 60; i++)
        {
            var kind = kinds[i % kinds.Length];
            Monitor(h).Report("crm", LiveFailure(kind));
            Monitor(h).Report("crm", LiveFailure(kind));            // Red or Yellow
            Monitor(h).Report("crm", LiveSuccess);
            Monitor(h).Report("crm", LiveSuccess);                  // Green again
            h.Clock.Advance(TimeSpan.FromSeconds(0.5));
        }

        Assert.Equal(HealthState.Green, Monitor(h).Get("crm").State);
        var during = await h.SettledAlertsAsync();
        Assert.Equal(
            [(FailureKind.Unavailable, AlertSeverity.Critical), (FailureKind.BadResponse, AlertSeverity.Warning), (FailureKind.Auth, AlertSeverity.Critical)],
            during.Select(a => (a.Kind, a.Severity)));

        h.Clock.Advance(TimeSpan.FromMinutes(1));                   // no traffic: announced all the same

        var alerts = await h.SettledAlertsAsync();
        var recovered = Assert.Single(alerts, a => a.Severity == AlertSeverity.Info);
        Assert.Equal(4, alerts.Count);
        Assert.Equal(57, recovered.SuppressedCount);
        Assert.StartsWith("recovered after less than a minute", recovered.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Probe_DownAgainSoonAfterRecovery_AlertsAgainWithinCooldown()
    {
        await using var h = Create(TimeSpan.FromMinutes(1));
        Models(h, 200);
        await StartProbesAsync(h);
        foreach (int status in new[] { 503, 503, 200, 200, 503, 503 })
        {
            Models(h, status);
            await NextProbeAsync(h, TimeSpan.FromMinutes(1));
        }

        var alerts = await h.SettledAlertsAsync();
        Assert.Equal([AlertSeverity.Critical, AlertSeverity.Info, AlertSeverity.Critical], alerts.Select(a => a.Severity));
    }

    [Fact]
    public async Task Probe_OutageMixingUnavailableAndTimeouts_TurnsRed()
    {
        int runs = 0;
        await using var h = IntegrationHarness.Create(build: b => b.AddHealthProbe(
            _ => new ThrowingProbe(() => ++runs % 2 == 0 ? new TimeoutException("slow") : new HttpRequestException(HttpRequestError.ConnectionError, "refused")),
            o =>
            {
                o.Interval = TimeSpan.FromMinutes(1);
                o.InitialDelay = TimeSpan.Zero;
                o.Jitter = TimeSpan.Zero;
            }));
        await StartProbesAsync(h);                      // refused
        Assert.Equal(HealthState.Unknown, Monitor(h).Get("crm").State);

        await NextProbeAsync(h, TimeSpan.FromMinutes(1)); // timeout

        Assert.Equal(HealthState.Red, Monitor(h).Get("crm").State);
    }

    [Fact]
    public async Task HealthCheck_ReportsCachedStateWithZeroUpstreamRequests()
    {
        await using var h = Create(TimeSpan.FromMinutes(1));
        Models(h, 503);
        await StartProbesAsync(h);
        await NextProbeAsync(h, TimeSpan.FromMinutes(1));
        int before = h.Server.LogEntries.Count();
        var checks = h.Provider.GetRequiredService<HealthCheckService>();

        var report = await checks.CheckHealthAsync(Ct);
        await checks.CheckHealthAsync(Ct);

        var entry = report.Entries["integration:crm"];
        Assert.Equal(HealthStatus.Unhealthy, entry.Status);
        Assert.Equal("Red", entry.Data["state"]);
        Assert.Equal("Unavailable", entry.Data["last_failure_kind"]);
        Assert.Equal(before, h.Server.LogEntries.Count());
    }

    [Fact]
    public async Task HealthCheck_YellowIsDegradedGreenIsHealthy()
    {
        await using var h = Create(TimeSpan.FromMinutes(1));
        Models(h, 200);
        await StartProbesAsync(h);
        var checks = h.Provider.GetRequiredService<HealthCheckService>();
        Assert.Equal(HealthStatus.Healthy, (await checks.CheckHealthAsync(Ct)).Entries["integration:crm"].Status);

        Models(h, 429);
        await NextProbeAsync(h, TimeSpan.FromMinutes(1));
        await NextProbeAsync(h, TimeSpan.FromMinutes(1));

        Assert.Equal(HealthStatus.Degraded, (await checks.CheckHealthAsync(Ct)).Entries["integration:crm"].Status);
    }

    [Fact]
    public async Task Get_LastResultOlderThanThreeIntervals_ReadsUnknown()
    {
        await using var h = Create(TimeSpan.FromMinutes(1));
        Models(h, 200);
        await StartProbesAsync(h);
        await h.Provider.GetServices<IHostedService>().OfType<Resilient.Integrations.Health.Internal.HealthProbeScheduler>().Single().StopAsync(Ct);

        h.Clock.Advance(TimeSpan.FromMinutes(3));
        Assert.Equal(HealthState.Green, Monitor(h).Get("crm").State);

        h.Clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(HealthState.Unknown, Monitor(h).Get("crm").State);
    }

    private static readonly HealthProbeResult LiveSuccess = new(FailureClassification.Success, TimeSpan.Zero);

    private static HealthProbeResult LiveFailure(FailureKind kind) => new(new FailureClassification(kind), TimeSpan.Zero);

    [Fact]
    public async Task Report_LiveSuccessesWhileGreen_KeepTheLastResultTimeCurrent()
    {
        // No probe: an interval of 1 minute, so the state reads Unknown 3 minutes after the last result.
        await using var h = IntegrationHarness.Create();
        Monitor(h).Report("crm", LiveSuccess);
        h.Clock.Advance(TimeSpan.FromMinutes(2));
        Monitor(h).Report("crm", LiveSuccess);
        h.Clock.Advance(TimeSpan.FromMinutes(2));

        var health = Monitor(h).Get("crm");

        Assert.Equal(HealthState.Green, health.State);
        Assert.Equal(h.Clock.GetUtcNow() - TimeSpan.FromMinutes(2), health.LastResultAt);
    }

    [Fact]
    public async Task Report_LiveSuccessAfterASilence_StartsAgainFromUnknown()
    {
        await using var h = IntegrationHarness.Create();
        var changes = new List<HealthStateChange>();
        Monitor(h).StateChanged += (_, change) => changes.Add(change);
        Monitor(h).Report("crm", LiveSuccess);
        Monitor(h).Report("crm", LiveSuccess);
        h.Clock.Advance(TimeSpan.FromMinutes(5));

        Monitor(h).Report("crm", LiveSuccess);

        Assert.Equal([(HealthState.Unknown, HealthState.Green), (HealthState.Unknown, HealthState.Green)], changes.Select(c => (c.Previous, c.Current)));
        Assert.Equal(h.Clock.GetUtcNow(), Monitor(h).Get("crm").Since);
    }

    [Fact]
    public async Task Report_SuccessBetweenFailuresWhileGreen_ResetsTheConfirmationCount()
    {
        await using var h = IntegrationHarness.Create();
        Monitor(h).Report("crm", LiveSuccess);
        Monitor(h).Report("crm", LiveSuccess);

        Monitor(h).Report("crm", LiveFailure(FailureKind.Unavailable));
        Monitor(h).Report("crm", LiveSuccess);
        Monitor(h).Report("crm", LiveFailure(FailureKind.Unavailable));
        Assert.Equal(HealthState.Green, Monitor(h).Get("crm").State);

        Monitor(h).Report("crm", LiveFailure(FailureKind.Unavailable));
        Assert.Equal(HealthState.Red, Monitor(h).Get("crm").State);
        Monitor(h).Report("crm", LiveSuccess);
        Monitor(h).Report("crm", LiveSuccess);
        Assert.Equal(HealthState.Green, Monitor(h).Get("crm").State);
    }

    [Fact]
    public async Task LiveCall_AuthFailure_TurnsRedAtOnceAndRaisesStateChanged()
    {
        await using var h = IntegrationHarness.Create();
        var changes = new List<HealthStateChange>();
        Monitor(h).StateChanged += (_, change) => changes.Add(change);
        h.Server.Given(Request.Create().WithPath("/call").UsingGet())
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json").WithBody("{}"));
        await h.GetAsync();
        h.Server.Reset();
        h.Server.Given(Request.Create().WithPath("/call").UsingGet()).RespondWith(Response.Create().WithStatusCode(401));

        await h.GetAsync();

        Assert.Equal(HealthState.Red, Monitor(h).Get("crm").State);
        Assert.Equal([(HealthState.Unknown, HealthState.Green), (HealthState.Green, HealthState.Red)], changes.Select(c => (c.Previous, c.Current)));
    }

    [Fact]
    public async Task LiveCall_RejectedRequests_DoNotTouchHealth()
    {
        await using var h = IntegrationHarness.Create();
        h.Server.Given(Request.Create().WithPath("/call").UsingGet()).RespondWith(Response.Create().WithStatusCode(422));

        await h.GetAsync();
        await h.GetAsync();

        Assert.Equal(HealthState.Unknown, Monitor(h).Get("crm").State);
    }

    [Fact]
    public async Task LiveCall_CircuitOpens_TurnsRed()
    {
        await using var h = IntegrationHarness.Create(o =>
        {
            o.Unavailable.MaxRetries = 0;
            o.CircuitBreaker.MinimumThroughput = 2;
            o.CircuitBreaker.FailureRatio = 0.5;
            o.Health.ConfirmAfter = 10;
        });
        h.Server.Given(Request.Create().WithPath("/call").UsingGet()).RespondWith(Response.Create().WithStatusCode(503));

        await h.GetAsync();
        await h.GetAsync();

        var health = Monitor(h).Get("crm");
        Assert.Equal(HealthState.Red, health.State);
    }

    [Fact]
    public async Task Probe_TimeoutsInARow_YellowThenRed()
    {
        int runs = 0;
        await using var h = IntegrationHarness.Create(
            build: b => b.AddHealthProbe(_ => new ThrowingProbe(() => { runs++; return new TimeoutException("slow"); }), o =>
            {
                o.Interval = TimeSpan.FromMinutes(1);
                o.InitialDelay = TimeSpan.Zero;
                o.Jitter = TimeSpan.Zero;
            }),
            configure: o => o.Health.ConfirmAfter = 1);
        await StartProbesAsync(h);
        Assert.Equal(HealthState.Yellow, Monitor(h).Get("crm").State);
        await NextProbeAsync(h, TimeSpan.FromMinutes(1));
        Assert.Equal(HealthState.Yellow, Monitor(h).Get("crm").State);

        await NextProbeAsync(h, TimeSpan.FromMinutes(1));

        Assert.Equal(HealthState.Red, Monitor(h).Get("crm").State);
        Assert.Equal(3, runs);
    }

    [Fact]
    public async Task Probe_HangsPastItsTimeout_CountsAsTimeoutAndNextRunStillHappens()
    {
        var probe = new HangingProbe();
        await using var h = IntegrationHarness.Create(build: b => b.AddHealthProbe(_ => probe, o =>
        {
            o.Interval = TimeSpan.FromMinutes(1);
            o.InitialDelay = TimeSpan.Zero;
            o.Jitter = TimeSpan.Zero;
            o.Timeout = TimeSpan.FromSeconds(12);
        }));
        await h.StartHostedServicesAsync();

        await Eventually.WaitUntilAsync(() => probe.Runs == 1);
        h.Clock.Advance(TimeSpan.FromSeconds(12));
        await Eventually.WaitUntilAsync(() => Monitor(h).Get("crm").LastResultAt is not null);

        Assert.Equal(FailureKind.Timeout, Monitor(h).Get("crm").LastFailureKind);

        // A run still in flight makes the next tick skip (runs never overlap): let the cancelled one finish first,
        // as the scheduler sees it. Its run is the probe's task wrapped in Task.Run, which may complete a moment
        // after the probe's own finally block; the scheduler releases the run's token once that run has ended.
        await Eventually.WaitUntilAsync(() => probe.Finished == 1 && probe.Released);
        await ScheduledAsync(h, h.Clock.GetUtcNow() + TimeSpan.FromSeconds(48));
        h.Clock.Advance(TimeSpan.FromSeconds(48));
        await Eventually.WaitUntilAsync(() => probe.Runs == 2);
    }

    [Fact]
    public void AddHealthProbe_IntervalTooShort_ThrowsNamingTheOption()
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() =>
            new ServiceCollection().AddResilientIntegration("crm").AddHttpHealthProbe("/v1/models", o => o.Interval = TimeSpan.FromMilliseconds(10)));

        Assert.Contains("Interval", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Report_RedThenBadResponseThenSuccess_YellowAlertNamesTheBadResponse()
    {
        await using var h = IntegrationHarness.Create();
        var monitor = h.Provider.GetRequiredService<Resilient.Integrations.Health.Internal.HealthMonitor>();
        monitor.Report(IntegrationHarness.Name, new HealthProbeResult(new FailureClassification(FailureKind.Unavailable), TimeSpan.Zero));
        monitor.Report(IntegrationHarness.Name, new HealthProbeResult(new FailureClassification(FailureKind.Unavailable), TimeSpan.Zero));
        Assert.Equal(HealthState.Red, Monitor(h).Get(IntegrationHarness.Name).State);

        monitor.Report(IntegrationHarness.Name, new HealthProbeResult(new FailureClassification(FailureKind.BadResponse) { Reason = "truncated JSON" }, TimeSpan.Zero));
        monitor.Report(IntegrationHarness.Name, HealthProbeResult.Healthy(TimeSpan.Zero));

        Assert.Equal(HealthState.Yellow, Monitor(h).Get(IntegrationHarness.Name).State);
        var yellow = Assert.Single(await h.SettledAlertsAsync(), a => a.Severity == AlertSeverity.Warning);
        Assert.Equal(FailureKind.BadResponse, yellow.Kind);
        Assert.Contains("truncated JSON", yellow.Message, StringComparison.Ordinal);
    }

    private sealed class HangingProbe : IHealthProbe
    {
        private int _runs;
        private int _finished;
        private CancellationToken _token;

        public int Runs => Volatile.Read(ref _runs);

        public int Finished => Volatile.Read(ref _finished);

        /// <summary>Whether the scheduler has disposed the source of the last run's token (its WaitHandle then throws).</summary>
        public bool Released
        {
            get
            {
                try
                {
                    _ = _token.WaitHandle;
                    return false;
                }
                catch (ObjectDisposedException)
                {
                    return true;
                }
            }
        }

        public async ValueTask<HealthProbeResult> ProbeAsync(CancellationToken cancellationToken)
        {
            _token = cancellationToken;
            Interlocked.Increment(ref _runs);
            try
            {
                await Task.Delay(Timeout.Infinite, cancellationToken);
                return HealthProbeResult.Healthy(TimeSpan.Zero);
            }
            finally
            {
                Interlocked.Increment(ref _finished);
            }
        }
    }

    private sealed class ThrowingProbe(Func<Exception> fail) : IHealthProbe
    {
        public ValueTask<HealthProbeResult> ProbeAsync(CancellationToken cancellationToken) => ValueTask.FromException<HealthProbeResult>(fail());
    }
}
