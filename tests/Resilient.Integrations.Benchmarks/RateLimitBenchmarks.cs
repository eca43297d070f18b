using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using Resilient.Integrations.Benchmarks.Scenarios;

namespace Resilient.Integrations.Benchmarks;

/// <summary>
/// Rate limit (<see cref="RateLimitScenario"/>): twice the quota of a token-bucket API. Counted: goodput as a share
/// of what the quota allowed over the run, the share of upstream requests answered 429, and the calls that finally failed.
/// </summary>
[Config(typeof(Columns))]
[WarmupCount(1)]
[IterationCount(3)]
[InvocationCount(1, 1)]
public class RateLimitBenchmarks
{
    [Benchmark(Baseline = true)]
    public Task StandardResilienceHandler() =>
        RateLimitScenario.RunAsync(nameof(StandardResilienceHandler), (clock, upstream) => [ScenarioClients.Build(clock, upstream, ScenarioClients.Standard)]);

    [Benchmark]
    public Task ResilientIntegration() =>
        RateLimitScenario.RunAsync(nameof(ResilientIntegration), (clock, upstream) => [ScenarioClients.Build(clock, upstream, ScenarioClients.Ours)]);

    private sealed class Columns : ManualConfig
    {
        public Columns() => AddColumn(RateLimitScenario.Columns());
    }
}
