using Microsoft.Extensions.DependencyInjection;
using Resilient.Integrations.Classification;
using Resilient.Integrations.Policies.Internal;
using Resilient.Integrations.Testing;
using Resilient.Integrations.Tests.Support;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;
using Resilient.Integrations.Internal;

namespace Resilient.Integrations.Tests.Policies;

/// <summary>Several instances sharing one API key pace against one budget in a real Redis.</summary>
public sealed class SharedRateBudgetTests
{
    private static IntegrationHarness Instance(WireMockServer upstream, TestClock clock, string? redis, string prefix, TimeSpan? timeout = null, int? retries = null) => IntegrationHarness.Create(
        o =>
        {
            o.RateLimit.MaxRetries = retries ?? o.RateLimit.MaxRetries;
            o.BaseAddress = new Uri(upstream.Url!);
            o.Fallback.Enabled = false;
        },
        services: s =>
        {
            if (redis is not null)
            {
                s.AddResilientIntegrationsRedis(o =>
                {
                    o.Configuration = redis + ",connectTimeout=2000";
                    o.KeyPrefix = prefix;
                    o.Timeout = timeout ?? TimeSpan.FromSeconds(5); // a loaded machine must not turn a slow answer into local pacing
                });
            }
        },
        clock: clock);

    private static TestClock NewClock()
    {
        var clock = new TestClock(new DateTimeOffset(2026, 11, 23, 6, 0, 0, TimeSpan.Zero));
        clock.Deadlines.UnionWith([IntegrationHarness.AttemptTimeout, IntegrationHarness.TotalTimeout]);
        return clock;
    }

    private static async Task DisposeAllAsync(IEnumerable<IntegrationHarness> instances)
    {
        foreach (var instance in instances)
        {
            await instance.DisposeAsync();
        }
    }

    private static PacingGate Gate(IntegrationHarness instance) => instance.Provider.GetRequiredService<IntegrationRegistry>().Get(IntegrationHarness.Name).Pacing;

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Send_ThreeInstancesShareOneKey_TheyStayInsideTheQuotaTogether(bool shared)
    {
        var redis = shared ? await RedisServer.RequireAsync() : null;
        var clock = NewClock();
        using var upstream = LoopbackServer.Start();
        var quota = new TokenBucketQuota(3, TimeSpan.FromSeconds(1), clock);
        upstream.InjectTokenBucket("/call", quota);
        string prefix = redis?.NewPrefix() ?? "";
        var instances = Enumerable.Range(0, 3).Select(_ => Instance(upstream, clock, redis?.Configuration, prefix)).ToArray();
        try
        {
            for (int i = 0; i < 15; i++)
            {
                var (response, error) = await instances[i % 3].GetAsync();
                Assert.Null(error);
                Assert.True(response!.IsSuccessStatusCode);
            }

            Assert.Equal(15, quota.Accepted);
            if (shared)
            {
                Assert.True(quota.Refused == 0, string.Join(", ", instances.SelectMany(i => i.Logs.GetSnapshot()).Where(l => l.Level >= Microsoft.Extensions.Logging.LogLevel.Warning).Select(l => l.Message)) + " | " + string.Join(", ", clock.Waits) + " | " + string.Join(", ", upstream.LogEntries.Select(e => e.ResponseMessage?.StatusCode + "@" + e.RequestMessage?.DateTime.ToString("ss.fff")))); // each instance's first call learns the budget; after that one bucket paces all three
            }
            else
            {
                Assert.True(quota.Refused > 0, "each instance alone believes it has the whole budget");
            }
        }
        finally
        {
            await DisposeAllAsync(instances);
        }
    }

    [Fact]
    public async Task Send_429AtOneInstance_HoldsTheOthers()
    {
        var redis = await RedisServer.RequireAsync();
        var clock = NewClock();
        using var upstream = LoopbackServer.Start();
        upstream.Given(Request.Create().WithPath("/call")).InScenario("limit").WillSetStateTo("ok")
            .RespondWith(Response.Create().WithStatusCode(429).WithHeader("retry-after-ms", "4000"));
        upstream.Given(Request.Create().WithPath("/call")).InScenario("limit").WhenStateIs("ok")
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json").WithBody("{}"));
        string prefix = redis.NewPrefix();
        var a = Instance(upstream, clock, redis.Configuration, prefix, retries: 0);
        var b = Instance(upstream, clock, redis.Configuration, prefix, retries: 0);
        try
        {
            await b.GetAsync("/warm-up"); // B's integration exists before the hold is published
            var (_, first) = await a.GetAsync();
            Assert.Equal(FailureKind.RateLimit, Assert.IsType<IntegrationFailureException>(first).Kind);

            await Eventually.WaitUntilAsync(() => Gate(b).HoldTime() > TimeSpan.Zero);
            var (second, error) = await b.GetAsync();

            Assert.Null(error);
            Assert.True(second!.IsSuccessStatusCode);
            Assert.Contains(ServerHint.Wait(TimeSpan.FromSeconds(4)), clock.Waits); // B waited out the hold A learned instead of meeting a second 429
            Assert.Equal(2, upstream.LogEntries.Count(e => e.RequestMessage?.Path == "/call"));
        }
        finally
        {
            await DisposeAllAsync([a, b]);
        }
    }

    [Fact]
    public async Task Send_RedisStoppedMidRun_InstancesPaceAloneWarnOnceAndShareAgainWhenItIsBack()
    {
        await using var redis = await RedisServer.StartPrivateAsync();
        var clock = NewClock();
        using var upstream = LoopbackServer.Start();
        var quota = new TokenBucketQuota(3, TimeSpan.FromSeconds(1), clock);
        upstream.InjectTokenBucket("/call", quota);
        string prefix = redis.NewPrefix();
        var instances = Enumerable.Range(0, 2).Select(_ => Instance(upstream, clock, redis.Configuration, prefix, TimeSpan.FromMilliseconds(500))).ToArray();
        foreach (var instance in instances)
        {
            instance.Provider.GetRequiredService<IntegrationRegistry>().Get(IntegrationHarness.Name).SharedPacing!.AloneAfterFailure = TimeSpan.Zero;
        }

        try
        {
            for (int i = 0; i < 4; i++)
            {
                Assert.Null((await instances[i % 2].GetAsync()).Error);
            }

            await redis.StopAsync();
            for (int i = 0; i < 6; i++)
            {
                var (response, error) = await instances[i % 2].GetAsync();
                Assert.Null(error); // Redis is gone: nothing fails because of it
                Assert.True(response!.IsSuccessStatusCode);
            }

            Assert.All(instances, i => Assert.Single(i.Logs.GetSnapshot(), l => l.Id.Id == 53));

            await redis.StartAsync();
            await Eventually.WaitUntilAsync(() =>
            {
                Assert.Null(instances[0].GetAsync().GetAwaiter().GetResult().Error);
                return instances[0].Logs.GetSnapshot().Any(l => l.Id.Id == 54);
            });
            Assert.Single(instances[0].Logs.GetSnapshot(), l => l.Id.Id == 53); // one outage, one warning
        }
        finally
        {
            await DisposeAllAsync(instances);
        }
    }
}
