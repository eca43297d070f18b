using Microsoft.Extensions.DependencyInjection;
using Resilient.Integrations.Policies;
using Resilient.Integrations.Testing;
using Resilient.Integrations.Tests.Support;
using WireMock.Server;

namespace Resilient.Integrations.Tests.Drills;

/// <summary>The failover scenarios, on real time against two loopback WireMock servers: the primary and a secondary.</summary>
public sealed class FailoverDrillTests
{
    private static readonly FaultScenario[] Failover = [FaultScenario.FailoverPrimaryDown, FaultScenario.FailoverAllDown];

    private static async Task<DrillReport> DrillAsync(bool listSecondary = true, bool withSecondary = true, Action<ResilientIntegrationOptions>? configure = null)
    {
        using var upstream = LoopbackServer.Start();
        using var secondary = LoopbackServer.Start();
        var services = new ServiceCollection();
        services.AddResilientIntegration("crm", o =>
            {
                o.BaseAddress = new Uri(upstream.Url!);
                if (listSecondary)
                {
                    o.Failover.Endpoints.Add(new Uri(secondary.Url!));
                }

                o.Unavailable.BaseDelay = TimeSpan.FromMilliseconds(20);
                o.AttemptTimeout = TimeSpan.FromSeconds(30);
                configure?.Invoke(o);
            })
            .AddDrillAlertRecorder();
        await using var provider = services.BuildServiceProvider();
        var options = new DrillOptions { ReadPath = "/v1/deals", AlertWait = Eventually.Deadline, Secondary = withSecondary ? secondary : null };
        options.Scenarios.Clear();
        Failover.ToList().ForEach(options.Scenarios.Add);
        return await DrillRunner.RunAsync(provider, "crm", upstream, options, TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task RunAsync_SecondaryListed_BothFailoverScenariosPassWithEvidence()
    {
        var report = await DrillAsync();

        Assert.True(report.Passed, report.ToString());
        var failover = report.Results.Single(r => r.Scenario == FaultScenario.FailoverPrimaryDown);
        Assert.Contains(failover.Evidence, e => e.StartsWith("answered live: \"served by http://127.0.0.1:", StringComparison.Ordinal));
        Assert.Contains(failover.Evidence, e => e.Contains("Yellow", StringComparison.Ordinal));
        var allDown = report.Results.Single(r => r.Scenario == FaultScenario.FailoverAllDown);
        Assert.Contains(allDown.Evidence, e => e.Contains("live data temporarily unavailable", StringComparison.Ordinal));
    }

    [Fact]
    public async Task RunAsync_SecondaryNotInFailoverEndpoints_ReportsThePrimaryDownScenario()
    {
        var report = await DrillAsync(listSecondary: false);

        Assert.False(report.Passed);
        var failed = Assert.Single(report.Failed, r => r.Scenario == FaultScenario.FailoverPrimaryDown);
        Assert.Equal(FaultScenario.FailoverPrimaryDown, failed.Scenario);
        Assert.Contains(failed.Failures, f => f.Contains("Failover:Endpoints", StringComparison.Ordinal));
    }

    [Fact]
    public async Task RunAsync_NoSecondaryGiven_SkipsTheFailoverScenarios()
    {
        var report = await DrillAsync(withSecondary: false);

        Assert.True(report.Passed, report.ToString());
        Assert.All(report.Results, r => Assert.StartsWith("skipped", Assert.Single(r.Evidence), StringComparison.Ordinal));
    }
}
