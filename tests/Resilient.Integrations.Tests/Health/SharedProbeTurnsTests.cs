using Microsoft.Extensions.DependencyInjection;
using Resilient.Integrations.Alerts;
using Resilient.Integrations.Classification;
using Resilient.Integrations.Health;
using Resilient.Integrations.Tests.Support;
using StackExchange.Redis;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;

namespace Resilient.Integrations.Tests.Health;

/// <summary>Several instances take turns probing through a real Redis: one probe per interval in total, every instance's health fed.</summary>
public sealed class SharedProbeTurnsTests
{
    private static readonly TimeSpan Interval = TimeSpan.FromMinutes(1);

    private static IntegrationHarness Instance(WireMockServer upstream, TestClock clock, string? redis, string prefix, IAlertSink? pager = null) => IntegrationHarness.Create(
        o => o.BaseAddress = new Uri(upstream.Url!),
        build: b =>
        {
            b.AddHttpHealthProbe("/v1/models", o =>
            {
                o.Interval = Interval;
                o.InitialDelay = TimeSpan.Zero;
                o.Jitter = TimeSpan.Zero;
            });
            if (pager is not null)
            {
                b.AddAlertSink(pager);
            }
        },
        services: s =>
        {
            if (redis is not null)
            {
                s.AddResilientIntegrationsRedis(o =>
                {
                    o.Configuration = redis + ",connectTimeout=2000";
                    o.KeyPrefix = prefix;
                    o.Timeout = TimeSpan.FromSeconds(2);
                });
            }
        },
        clock: clock);

    private static TestClock NewClock()
    {
        var clock = new TestClock(new DateTimeOffset(2026, 11, 23, 6, 0, 0, TimeSpan.Zero));
        clock.Deadlines.UnionWith([IntegrationHarness.AttemptTimeout, IntegrationHarness.TotalTimeout, TimeSpan.FromSeconds(30)]);
        return clock;
    }

    private static void Models(WireMockServer upstream, int status) => upstream
        .Given(Request.Create().WithPath("/v1/models").UsingGet())
        .RespondWith(Response.Create().WithStatusCode(status).WithHeader("Content-Type", "application/json").WithBody(status == 200 ? """{"data":[]}""" : """{"error":{"code":"invalid_api_key"}}"""));

    private static int Probes(WireMockServer upstream) => upstream.LogEntries.Count(e => e.RequestMessage?.Path == "/v1/models");

    private static IIntegrationHealthMonitor Monitor(IntegrationHarness instance) => instance.Provider.GetRequiredService<IIntegrationHealthMonitor>();

    /// <summary>Starts the instances and waits until each listens for the others' results, so none can be missed.</summary>
    private static async Task StartAsync(IntegrationHarness[] instances, RedisServer? redis, string prefix)
    {
        if (redis is not null)
        {
            await using var probe = await ConnectionMultiplexer.ConnectAsync(redis.Configuration);
            foreach (var instance in instances)
            {
                await instance.StartHostedServicesAsync();
            }

            await Eventually.WaitUntilAsync(() => Subscribers(probe, prefix + "probe-results") == instances.Length);
        }
        else
        {
            foreach (var instance in instances)
            {
                await instance.StartHostedServicesAsync();
            }
        }

        await TickedAsync(instances[0].Clock, instances.Length);
    }

    private static long Subscribers(ConnectionMultiplexer redis, string channel) =>
        (long)((RedisResult[])redis.GetDatabase().Execute("PUBSUB", "NUMSUB", channel)!)[1];

    /// <summary>Waits until every instance has finished this interval's tick: its next one is set.</summary>
    private static Task TickedAsync(TestClock clock, int instances)
    {
        var due = clock.GetUtcNow() + Interval;
        return Eventually.WaitUntilAsync(() => clock.TimersDueAt(due) == instances);
    }

    /// <summary>Moves to the next interval and waits until every instance has had its tick there.</summary>
    private static async Task NextIntervalAsync(TestClock clock, int instances)
    {
        clock.Advance(Interval);
        await TickedAsync(clock, instances);
    }

    private static async Task DisposeAllAsync(IEnumerable<IntegrationHarness> instances)
    {
        foreach (var instance in instances)
        {
            await instance.DisposeAsync();
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Probe_ThreeInstancesFiveIntervals_OneProbePerIntervalInTotalAndEveryInstanceHasTheResult(bool shared)
    {
        var redis = shared ? await RedisServer.RequireAsync() : null;
        var clock = NewClock();
        using var upstream = LoopbackServer.Start();
        Models(upstream, 200);
        string prefix = redis?.NewPrefix() ?? "";
        var instances = Enumerable.Range(0, 3).Select(_ => Instance(upstream, clock, redis?.Configuration, prefix)).ToArray();
        try
        {
            await StartAsync(instances, redis, prefix);
            for (int i = 0; i < 5; i++)
            {
                await NextIntervalAsync(clock, instances.Length);
            }

            var now = clock.GetUtcNow();
            await Eventually.WaitUntilAsync(() => instances.All(i => Monitor(i).Get(IntegrationHarness.Name).LastResultAt == now));

            Assert.Equal(shared ? 6 : 18, Probes(upstream));
            Assert.All(instances, i => Assert.Equal(HealthState.Green, Monitor(i).Get(IntegrationHarness.Name).State));
        }
        finally
        {
            await DisposeAllAsync(instances);
        }
    }

    [Fact]
    public async Task Probe_TokenExpired_EveryInstanceTurnsRedAndOneCriticalAlertReachesTheSharedPager()
    {
        var redis = await RedisServer.RequireAsync();
        var clock = NewClock();
        using var upstream = LoopbackServer.Start();
        Models(upstream, 200);
        string prefix = redis.NewPrefix();
        var pager = new SharedPager();
        var instances = Enumerable.Range(0, 3).Select(_ => Instance(upstream, clock, redis.Configuration, prefix, pager)).ToArray();
        try
        {
            await StartAsync(instances, redis, prefix);
            upstream.Reset();
            Models(upstream, 401);
            await NextIntervalAsync(clock, instances.Length);

            await Eventually.WaitUntilAsync(() => instances.All(i => Monitor(i).Get(IntegrationHarness.Name).State == HealthState.Red));
            foreach (var instance in instances)
            {
                await instance.SettledAlertsAsync();
            }

            Assert.Single(pager.Alerts, a => a.Severity == AlertSeverity.Critical && a.Kind == FailureKind.Auth);
            Assert.Equal(1, Probes(upstream)); // the 401 was probed once, by one instance
        }
        finally
        {
            await DisposeAllAsync(instances);
        }
    }

    [Fact]
    public async Task Probe_RedisStoppedMidRun_EachInstanceProbesItselfWarnsOnceAndTurnsResumeWhenItIsBack()
    {
        await using var redis = await RedisServer.StartPrivateAsync();
        var clock = NewClock();
        using var upstream = LoopbackServer.Start();
        Models(upstream, 200);
        string prefix = redis.NewPrefix();
        var instances = Enumerable.Range(0, 3).Select(_ => Instance(upstream, clock, redis.Configuration, prefix)).ToArray();
        try
        {
            await StartAsync(instances, redis, prefix);
            await NextIntervalAsync(clock, instances.Length);

            await redis.StopAsync();
            int before = Probes(upstream);
            await NextIntervalAsync(clock, instances.Length);
            await NextIntervalAsync(clock, instances.Length);

            Assert.Equal(before + 6, Probes(upstream)); // alone, each instance probes every interval: health never goes blind
            Assert.All(instances, i => Assert.Single(i.Logs.GetSnapshot(), l => l.Id.Id == 55));
            Assert.All(instances, i => Assert.Equal(HealthState.Green, Monitor(i).Get(IntegrationHarness.Name).State));

            await redis.StartAsync();
            await Eventually.WaitUntilAsync(() =>
            {
                NextIntervalAsync(clock, instances.Length).GetAwaiter().GetResult();
                return instances.All(i => i.Logs.GetSnapshot().Any(l => l.Id.Id == 56));
            });
            int resumed = Probes(upstream);
            await NextIntervalAsync(clock, instances.Length);

            Assert.Equal(resumed + 1, Probes(upstream));
        }
        finally
        {
            await DisposeAllAsync(instances);
        }
    }
}
