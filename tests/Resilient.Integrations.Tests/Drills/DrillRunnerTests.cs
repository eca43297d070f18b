using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Resilient.Integrations.Deferral;
using Resilient.Integrations.Policies;
using Resilient.Integrations.Testing;
using Resilient.Integrations.Validation;
using Resilient.Integrations.Tests.Support;

namespace Resilient.Integrations.Tests.Drills;

/// <summary>The drill runs on real time against a loopback WireMock server, as a host's own test would.</summary>
public sealed class DrillRunnerTests
{
    private static async Task<DrillReport> DrillAsync(Action<ResilientIntegrationOptions>? configure = null, bool validateFields = true, FaultScenario[]? scenarios = null)
    {
        using var upstream = LoopbackServer.Start();
        await WarmUpAsync(upstream);
        var services = new ServiceCollection();
        services.AddSingleton<IDeferredWriteStore>(new InMemoryDeferredWriteStore());
        services.AddResilientIntegration("crm", o =>
            {
                o.BaseAddress = new Uri(upstream.Url!);
                o.Unavailable.BaseDelay = TimeSpan.FromMilliseconds(20);
                o.Timeout.BaseDelay = TimeSpan.FromMilliseconds(20);
                o.RateLimit.BaseDelay = TimeSpan.FromMilliseconds(20);
                o.RateLimit.MaxRetries = 1;
                o.Deferral.ReplayInterval = TimeSpan.FromSeconds(1);
                // Real time: every healthy read must finish within the attempt timeout. 5 s is the longest the Slow
                // scenario accepts (a 1 s one timed out healthy reads on a loaded machine, opened the circuit and
                // failed the scenarios after it); one attempt, so that Slow waits it out once, not twice.
                o.AttemptTimeout = TimeSpan.FromSeconds(5);
                o.Timeout.MaxRetries = 0;
                configure?.Invoke(o);
            })
            .ValidateResponsesWith(validateFields ? new JsonResponseValidator(new JsonResponseValidatorOptions { RequiredProperties = { "data" } }) : JsonResponseValidator.Default)
            .AddDrillAlertRecorder();
        await using var provider = services.BuildServiceProvider();
        foreach (var hosted in provider.GetServices<IHostedService>())
        {
            await hosted.StartAsync(TestContext.Current.CancellationToken); // the replay of queued writes
        }

        try
        {
            // The drill's own waits (for queued alerts, for the replay) end as soon as what they wait for happens:
            // bounded generously, they catch a hang but never a slow machine.
            var options = new DrillOptions
            {
                ReadPath = "/v1/deals",
                WritePath = "/v1/leads",
                ReplayWait = Eventually.Deadline,
                AlertWait = Eventually.Deadline,
            };
            if (scenarios is not null)
            {
                options.Scenarios.Clear();
                scenarios.ToList().ForEach(options.Scenarios.Add);
            }

            return await DrillRunner.RunAsync(provider, "crm", upstream, options, TestContext.Current.CancellationToken);
        }
        finally
        {
            foreach (var hosted in provider.GetServices<IHostedService>())
            {
                await hosted.StopAsync(CancellationToken.None);
            }
        }
    }

    /// <summary>
    /// The drill runs on real time: a cold first request (Kestrel, WireMock and the pipeline compiled on a loaded
    /// machine) can outlast the attempt timeout, trip the circuit and leave no copy before the drill starts. One
    /// request through a throwaway integration warms the same code without touching the drilled integration.
    /// </summary>
    private static async Task WarmUpAsync(WireMock.Server.WireMockServer upstream)
    {
        upstream.ServeHealthy("/v1/deals");
        var services = new ServiceCollection();
        services.AddResilientIntegration("warm-up", o => o.BaseAddress = new Uri(upstream.Url!));
        await using var provider = services.BuildServiceProvider();
        using var response = await provider.GetRequiredService<IHttpClientFactory>().CreateClient("warm-up")
            .GetAsync("/v1/deals", TestContext.Current.CancellationToken);
        upstream.Reset();
    }

    [Fact]
    public async Task RunAsync_CorrectlyWiredIntegration_EveryScenarioPassesWithEvidence()
    {
        var report = await DrillAsync();

        Assert.True(report.Passed, report.ToString());
        Assert.Equal(Enum.GetValues<FaultScenario>(), report.Results.Select(r => r.Scenario));
        var down = report.Results.Single(r => r.Scenario == FaultScenario.Down);
        Assert.Contains(down.Evidence, e => e.Contains("live data temporarily unavailable", StringComparison.Ordinal));
        Assert.Contains(report.Results.Single(r => r.Scenario == FaultScenario.TokenExpired).Evidence, e => e.Contains("[Critical]", StringComparison.Ordinal));
        Assert.Contains(report.Results.Single(r => r.Scenario == FaultScenario.Malformed).Evidence, e => e.Contains("skipped", StringComparison.Ordinal));
        Assert.Contains(report.Results.Single(r => r.Scenario == FaultScenario.Slow).Evidence, e => e.Contains("alert fired: [Warning]", StringComparison.Ordinal));
        Assert.Contains(report.Results.Single(r => r.Scenario == FaultScenario.WriteWhileDown).Evidence, e => e.Contains("replayed after recovery", StringComparison.Ordinal));
        Assert.Contains(report.Results.Single(r => r.Scenario == FaultScenario.RateLimited).Evidence, e => e.Contains("429 with retry-after-ms", StringComparison.Ordinal));
        Assert.Contains(report.Results.Single(r => r.Scenario == FaultScenario.ConnectionRefused).Evidence, e => e.Contains("live data temporarily unavailable", StringComparison.Ordinal));
        Assert.Contains(report.Results.Single(r => r.Scenario == FaultScenario.TokenExpired).Evidence, e => e.StartsWith("token refused from", StringComparison.Ordinal));
    }

    [Fact]
    public async Task RunAsync_SoftTimeoutSet_SlowUpstreamIsAnsweredFromTheCopyWhichItRefreshes()
    {
        var report = await DrillAsync(o => o.Fallback.SoftTimeout = TimeSpan.FromMilliseconds(200), scenarios: [FaultScenario.SlowWithSoftTimeout, FaultScenario.Slow]);

        Assert.True(report.Passed, report.ToString());
        var slow = report.Results.Single(r => r.Scenario == FaultScenario.SlowWithSoftTimeout);
        Assert.Contains(slow.Evidence, e => e.Contains("(live data slow)", StringComparison.Ordinal));
        Assert.Contains(slow.Evidence, e => e.StartsWith("the service got one request", StringComparison.Ordinal));
        Assert.Contains(slow.Evidence, e => e.StartsWith("the slow answer refreshed the copy", StringComparison.Ordinal));
        Assert.Contains(report.Results.Single(r => r.Scenario == FaultScenario.Slow).Evidence, e => e.Contains("alert fired: [Warning]", StringComparison.Ordinal));
    }

    [Fact]
    public async Task RunAsync_SoftTimeoutOff_ReportsTheSoftTimeoutScenarioSkipped()
    {
        var report = await DrillAsync(scenarios: [FaultScenario.SlowWithSoftTimeout]);

        Assert.True(report.Passed, report.ToString());
        Assert.StartsWith("skipped: Fallback:SoftTimeout is off", Assert.Single(report.Results.Single().Evidence), StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_RequiredFieldsNotValidated_ReportsTheMissingFieldsScenario()
    {
        var report = await DrillAsync(validateFields: false);

        var missing = Assert.Single(report.Failed);
        Assert.Equal(FaultScenario.MissingFields, missing.Scenario);
        Assert.Contains(missing.Failures, f => f.Contains("RequiredProperties", StringComparison.Ordinal));
    }

    [Fact]
    public async Task RunAsync_FallbackRemoved_ReportsTheScenariosThatNeedIt()
    {
        var report = await DrillAsync(o => o.Fallback.Enabled = false);

        Assert.False(report.Passed);
        var down = report.Failed.Single(r => r.Scenario == FaultScenario.Down);
        Assert.Contains(down.Failures, f => f.Contains("no fallback served", StringComparison.Ordinal));
        Assert.Contains(report.Failed, r => r.Scenario == FaultScenario.TokenExpired);
        Assert.Contains(report.Failed, r => r.Scenario == FaultScenario.ConnectionRefused);
        Assert.Contains(report.Failed, r => r.Scenario == FaultScenario.MalformedJson);
        Assert.DoesNotContain(report.Failed, r => r.Scenario == FaultScenario.Flapping);
    }

    [Fact]
    public async Task RunAsync_CircuitLeftOpenByAnEarlierScenario_ReportsTheScenarioInsteadOfThrowing()
    {
        var report = await DrillAsync(
            o =>
            {
                o.CircuitBreaker.MinimumThroughput = 2;
                o.CircuitBreaker.FailureRatio = 0.1;
                o.CircuitBreaker.BreakDuration = TimeSpan.FromMinutes(5);
                o.AttemptTimeout = TimeSpan.FromSeconds(30); // no Slow scenario here: a slow healthy read must not trip this hair-trigger circuit
            },
            scenarios: [FaultScenario.Down, FaultScenario.ConnectionRefused]);

        // The drill returned a report for both scenarios, though the second could not even prime its spare server.
        Assert.Equal([FaultScenario.Down, FaultScenario.ConnectionRefused], report.Results.Select(r => r.Scenario));
        var refused = report.Results.Single(r => r.Scenario == FaultScenario.ConnectionRefused);
        Assert.Contains(refused.Failures, f => f.StartsWith("the scenario could not be set up", StringComparison.Ordinal));
    }
}
