using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using Microsoft.Extensions.DependencyInjection;
using Resilient.Integrations.Benchmarks.Scenarios;
using Resilient.Integrations.Fallback;
using Resilient.Integrations.Testing;

namespace Resilient.Integrations.Benchmarks;

/// <summary>
/// Rate limit: an OpenAI-style upstream with a token-bucket quota of 10 requests per second (burst 10) that
/// answers 429 with the exact retry-after-ms; calls arrive at 20 per second for 60 virtual seconds, twice the
/// quota. Counted: goodput as a share of what the quota allowed over the run, the share of upstream requests
/// answered 429, and the calls that finally failed.
/// </summary>
[Config(typeof(Columns))]
[WarmupCount(1)]
[IterationCount(3)]
[InvocationCount(1, 1)]
public class RateLimitBenchmarks
{
    private const int Capacity = 10;
    private static readonly TimeSpan RefillEvery = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan Duration = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(50);
    private static readonly Uri Address = new("http://ai.example/v1/chat/completions");

    [Benchmark(Baseline = true)]
    public Task StandardResilienceHandler() => RunAsync(nameof(StandardResilienceHandler), ScenarioClients.Standard);

    [Benchmark]
    public Task ResilientIntegration() => RunAsync(nameof(ResilientIntegration), ScenarioClients.Ours);

    private static async Task RunAsync(string method, Action<IServiceCollection, HttpMessageHandler> register)
    {
        var clock = new VirtualClock();
        var quota = new TokenBucketQuota(Capacity, RefillEvery, clock);
        var upstream = new QuotaUpstream(quota);
        var (provider, client) = ScenarioClients.Build(clock, upstream, register);
        await using var host = provider;

        int ok = 0, stale = 0, failed = 0;
        var started = clock.GetUtcNow();
        await VirtualTimeDriver.RunOpenLoopAsync(clock, Duration, Interval, async () =>
        {
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

        var elapsed = clock.GetUtcNow() - started;
        double allowed = Capacity + (elapsed / RefillEvery);
        double upstreamRequests = quota.Accepted + quota.Refused;
        ScenarioColumn.Record(method, "Goodput % of quota", 100 * quota.Accepted / allowed, "0.0");
        ScenarioColumn.Record(method, "429 % of requests", upstreamRequests == 0 ? 0 : 100 * quota.Refused / upstreamRequests, "0.0");
        ScenarioColumn.Record(method, "Calls ok", ok, "0");
        ScenarioColumn.Record(method, "Calls stale", stale, "0");
        ScenarioColumn.Record(method, "Calls failed", failed, "0");
        ScenarioColumn.Record(method, "Run (virtual s)", elapsed.TotalSeconds, "0.0");
    }

    private sealed class Columns : ManualConfig
    {
        public Columns() => AddColumn(
            new ScenarioColumn("Goodput % of quota", "Requests the quota accepted, as a share of what it allowed over the run"),
            new ScenarioColumn("429 % of requests", "Upstream requests answered 429"),
            new ScenarioColumn("Calls ok", "Logical calls (1,200 offered) answered live with a 200"),
            new ScenarioColumn("Calls stale", "Logical calls answered from the last good copy (marked stale) because the quota could not serve them in time"),
            new ScenarioColumn("Calls failed", "Logical calls that ended in a failure"),
            new ScenarioColumn("Run (virtual s)", "Virtual time until the last call ended"));
    }
}
