using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using Microsoft.Extensions.DependencyInjection;
using Resilient.Integrations.Benchmarks.Scenarios;

namespace Resilient.Integrations.Benchmarks;

/// <summary>
/// The rate-limit scenario (<see cref="RateLimitScenario"/>) with the calls spread round-robin over 1, 3 or 5 instances (separate service providers) sharing
/// one API key: each instance pacing alone, and the instances sharing one budget in Redis
/// (<c>AddResilientIntegrationsRedis</c>). Needs RESILIENT_REDIS (e.g. 127.0.0.1:56379) pointing at a Redis.
/// </summary>
[Config(typeof(Columns))]
[WarmupCount(1)]
[IterationCount(3)]
[InvocationCount(1, 1)]
public class SharedRateLimitBenchmarks
{
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

    private static Task RunAsync(string method, int instances, bool shared)
    {
        string prefix = $"bench-{Guid.NewGuid():N}:";
        ScenarioColumn.Record(method, "Instances", instances, "0");
        return RateLimitScenario.RunAsync(method, (clock, upstream) => [.. Enumerable.Range(0, instances).Select(_ => ScenarioClients.Build(clock, upstream, (services, handler) =>
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
        }))]);
    }

    private sealed class Columns : ManualConfig
    {
        public Columns() => AddColumn([new ScenarioColumn("Instances", "Service providers sharing the API key; calls go to them in turn"), .. RateLimitScenario.Columns()]);
    }
}
