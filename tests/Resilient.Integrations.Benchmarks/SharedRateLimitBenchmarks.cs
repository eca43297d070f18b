using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using Microsoft.Extensions.DependencyInjection;
using Resilient.Integrations.Benchmarks.Scenarios;
using Resilient.Integrations.Fallback;
using Resilient.Integrations.Testing;

namespace Resilient.Integrations.Benchmarks;

/// <summary>
/// The rate-limit scenario (an OpenAI-style upstream behind a 10/s token bucket, offered 20 calls a second for 60
/// virtual seconds) with the calls spread round-robin over 1, 3 or 5 instances (separate service providers) sharing
/// one API key: each instance pacing alone, and the instances sharing one budget in Redis
/// (<c>AddResilientIntegrationsRedis</c>). Needs RESILIENT_REDIS (e.g. 127.0.0.1:56379) pointing at a Redis.
/// </summary>
[Config(typeof(Columns))]
[WarmupCount(1)]
[IterationCount(3)]
[InvocationCount(1, 1)]
public class SharedRateLimitBenchmarks
{
    private const int Capacity = 10;
    private static readonly TimeSpan RefillEvery = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan Duration = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(50);
    private static readonly Uri Address = new("http://ai.example/v1/chat/completions");

    private static string Redis => Environment.GetEnvironmentVariable("RESILIENT_REDIS")
        ?? throw new InvalidOperationException("Set RESILIENT_REDIS to a Redis (e.g. 127.0.0.1:56379) to benchmark the shared rate budget.");

    [Benchmark(Baseline = true)]
    public Task Alone_1() => RunAsync(nameof(Alone_1), 1, shared: false);

    [Benchmark]
    public Task Alone_3() => RunAsync(nameof(Alone_3), 3, shared: false);

    [Benchmark]
    public Task Alone_5() => RunAsync(nameof(Alone_5), 5, shared: false);

    [Benchmark]
    public Task SharedRedis_1() => RunAsync(nameof(SharedRedis_1), 1, shared: true);

    [Benchmark]
    public Task SharedRedis_3() => RunAsync(nameof(SharedRedis_3), 3, shared: true);

    [Benchmark]
    public Task SharedRedis_5() => RunAsync(nameof(SharedRedis_5), 5, shared: true);

    private static async Task RunAsync(string method, int instances, bool shared)
    {
        var clock = new VirtualClock();
        var quota = new TokenBucketQuota(Capacity, RefillEvery, clock);
        var upstream = new QuotaUpstream(quota);
        string prefix = $"bench-{Guid.NewGuid():N}:";
        var contenders = Enumerable.Range(0, instances).Select(_ => ScenarioClients.Build(clock, upstream, (services, handler) =>
        {
            ScenarioClients.Ours(services, handler);
            if (shared)
            {
                services.AddResilientIntegrationsRedis(o =>
                {
                    o.Configuration = Redis;
                    o.KeyPrefix = prefix;
                });
            }
        })).ToArray();

        int ok = 0, stale = 0, failed = 0, next = 0;
        var started = clock.GetUtcNow();
        try
        {
            await VirtualTimeDriver.RunOpenLoopAsync(clock, Duration, Interval, async () =>
            {
                var client = contenders[(Interlocked.Increment(ref next) - 1) % instances].Client;
                try
                {
                    using var response = await client.GetAsync(Address);
                    _ = !response.IsSuccessStatusCode ? Interlocked.Increment(ref failed)
                        : response.GetDegradation() is null ? Interlocked.Increment(ref ok) : Interlocked.Increment(ref stale);
                }
                catch (Exception)
                {
                    Interlocked.Increment(ref failed);
                }
            });
        }
        finally
        {
            foreach (var (provider, _) in contenders)
            {
                await provider.DisposeAsync();
            }
        }

        var elapsed = clock.GetUtcNow() - started;
        double allowed = Capacity + (elapsed / RefillEvery);
        double upstreamRequests = quota.Accepted + quota.Refused;
        ScenarioColumn.Record(method, "Instances", instances, "0");
        ScenarioColumn.Record(method, "Quota used %", 100 * quota.Accepted / allowed, "0.0");
        ScenarioColumn.Record(method, "429 % of requests", upstreamRequests == 0 ? 0 : 100 * quota.Refused / upstreamRequests, "0.0");
        ScenarioColumn.Record(method, "Calls live", ok, "0");
        ScenarioColumn.Record(method, "Calls stale", stale, "0");
        ScenarioColumn.Record(method, "Calls failed", failed, "0");
        ScenarioColumn.Record(method, "Run (virtual s)", elapsed.TotalSeconds, "0.0");
    }

    private sealed class Columns : ManualConfig
    {
        public Columns() => AddColumn(
            new ScenarioColumn("Instances", "Service providers sharing the API key; calls go to them in turn"),
            new ScenarioColumn("Quota used %", "Requests the quota accepted, as a share of what it allowed over the run"),
            new ScenarioColumn("429 % of requests", "Upstream requests answered 429"),
            new ScenarioColumn("Calls live", "Logical calls (1,200 offered) answered live with a 200"),
            new ScenarioColumn("Calls stale", "Logical calls answered from the last good copy (marked stale)"),
            new ScenarioColumn("Calls failed", "Logical calls that ended in a failure"),
            new ScenarioColumn("Run (virtual s)", "Virtual time until the last call ended"));
    }
}
