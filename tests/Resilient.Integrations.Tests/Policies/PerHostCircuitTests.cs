using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Resilient.Integrations.Classification;
using Resilient.Integrations.Status;
using Resilient.Integrations.Tests.Support;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;

namespace Resilient.Integrations.Tests.Policies;

public sealed class PerHostCircuitTests : IDisposable
{
    private readonly List<WireMockServer> _hosts = [];

    public void Dispose()
    {
        foreach (var host in _hosts)
        {
            host.Stop();
            host.Dispose();
        }
    }

    private static IntegrationHarness Create(int maxHosts = 1000) => IntegrationHarness.Create(o =>
    {
        o.Unavailable.MaxRetries = 0;
        o.CircuitBreaker.PerHost = true;
        o.CircuitBreaker.MaxHosts = maxHosts;
        o.CircuitBreaker.MinimumThroughput = 5;
    });

    private WireMockServer Host(int status)
    {
        var server = LoopbackServer.Start();
        server.Given(Request.Create().WithPath("/call")).RespondWith(Response.Create().WithStatusCode(status));
        _hosts.Add(server);
        return server;
    }

    private static string Authority(WireMockServer server) => new Uri(server.Url!).GetComponents(UriComponents.SchemeAndServer, UriFormat.UriEscaped);

    private static async Task<(HttpResponseMessage? Response, Exception? Error)> CallAsync(IntegrationHarness h, WireMockServer host)
    {
        try
        {
            return (await h.Clock.RunAsync(h.Client.GetAsync(new Uri(new Uri(host.Url!), "/call?tenant=secret"), TestContext.Current.CancellationToken)), null);
        }
        catch (Exception ex)
        {
            return (null, ex);
        }
    }

    private static async Task<IntegrationStatus> StatusAsync(IntegrationHarness h) =>
        (await h.Provider.GetRequiredService<IResilienceStatus>().GetAsync(TestContext.Current.CancellationToken)).Integrations.Single();

    [Fact]
    public async Task Send_OneTenantHostDead_OpensOnlyItsCircuitAndOtherHostsAreServed()
    {
        await using var h = Create();
        var dead = Host(503);
        var alive = Host(200);
        (await CallAsync(h, alive)).Response!.Dispose();
        for (int i = 0; i < 5; i++)
        {
            await CallAsync(h, dead);
        }

        // Five failures in a row at one host: its circuit's to report, not the integration's Red.
        Assert.Equal(Resilient.Integrations.Health.HealthState.Yellow, (await StatusAsync(h)).State);
        for (int i = 0; i < 4; i++)
        {
            (await CallAsync(h, alive)).Response!.Dispose();
        }

        for (int i = 0; i < 5; i++)
        {
            var (_, error) = await CallAsync(h, dead);
            Assert.Equal("circuit open", Assert.IsType<IntegrationFailureException>(error).Classification.Reason);
            var (response, _) = await CallAsync(h, alive);
            Assert.Equal(HttpStatusCode.OK, response!.StatusCode);
            response.Dispose();
        }

        Assert.Equal(5, dead.LogEntries.Count());
        Assert.Equal(10, alive.LogEntries.Count());
        var status = await StatusAsync(h);
        Assert.Equal("Open", status.Circuits[Authority(dead)]);
        Assert.Equal("Closed", status.Circuits[Authority(alive)]);
        Assert.Contains("circuit open for host " + Authority(dead), status.DegradedBy);
        Assert.Equal(Resilient.Integrations.Health.HealthState.Yellow, status.State);

        var alert = Assert.Single(await h.SettledAlertsAsync(), a => a.Topic?.StartsWith("circuit", StringComparison.Ordinal) == true);
        Assert.Contains(Authority(dead), alert.Message, StringComparison.Ordinal);
        Assert.Equal(Authority(dead), alert.Details["host"]);
        Assert.DoesNotContain("secret", alert.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Send_MoreHostsThanTheBound_LeastRecentlyUsedDropped()
    {
        await using var h = Create(maxHosts: 2);
        var a = Host(200);
        var b = Host(200);
        var c = Host(200);

        foreach (var host in new[] { a, b, a, c })
        {
            (await CallAsync(h, host)).Response!.Dispose();
            h.Clock.Advance(TimeSpan.FromSeconds(1)); // last use is told apart by the clock
        }

        var circuits = (await StatusAsync(h)).Circuits;
        Assert.Equal(2, circuits.Count);
        Assert.Contains(Authority(a), circuits.Keys);
        Assert.Contains(Authority(c), circuits.Keys);
    }

    [Fact]
    public async Task Send_HostsIdleForFourBreaks_DroppedWhenTheNextHostArrives()
    {
        await using var h = Create();
        var a = Host(200);
        var b = Host(200);
        var c = Host(200);
        (await CallAsync(h, a)).Response!.Dispose();
        (await CallAsync(h, b)).Response!.Dispose();

        h.Clock.Advance(TimeSpan.FromMinutes(2) + TimeSpan.FromSeconds(1));
        (await CallAsync(h, c)).Response!.Dispose();

        Assert.Equal([Authority(c)], (await StatusAsync(h)).Circuits.Keys);
    }

    [Fact]
    public async Task Send_PerHostOff_OneCircuitForEveryHost()
    {
        await using var h = IntegrationHarness.Create(o =>
        {
            o.Unavailable.MaxRetries = 0;
            o.CircuitBreaker.MinimumThroughput = 5;
        });
        var dead = Host(503);
        var alive = Host(200);
        for (int i = 0; i < 5; i++)
        {
            await CallAsync(h, dead);
        }

        var (_, error) = await CallAsync(h, alive);

        Assert.Equal(FailureKind.Unavailable, Assert.IsType<IntegrationFailureException>(error).Kind);
        Assert.Empty(alive.LogEntries);
        Assert.Empty((await StatusAsync(h)).Circuits);
    }
}
