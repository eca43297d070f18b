using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using Microsoft.Extensions.DependencyInjection;
using Resilient.Integrations.Benchmarks.Scenarios;

namespace Resilient.Integrations.Benchmarks;

/// <summary>
/// Outage: the upstream is 100% down and 300 logical calls arrive one after another, 250 ms apart (virtual
/// time). Side by side with defaults: <c>AddStandardResilienceHandler</c> and <c>AddResilientIntegration</c>.
/// Counted: upstream attempts per call (all, and once the breaker first failed a call fast) and the caller's
/// p50/p99 wait. The time column is the CPU cost of the whole run.
/// </summary>
[Config(typeof(Columns))]
[WarmupCount(1)]
[IterationCount(3)]
[InvocationCount(1, 1)]
public class OutageBenchmarks
{
    private const int Calls = 300;
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(250);
    private static readonly Uri Address = new("http://crm.example/v1/deals");

    [Benchmark(Baseline = true)]
    public Task StandardResilienceHandler() => RunAsync(nameof(StandardResilienceHandler), ScenarioClients.Standard);

    [Benchmark]
    public Task ResilientIntegration() => RunAsync(nameof(ResilientIntegration), ScenarioClients.Ours);

    private static async Task RunAsync(string method, Action<IServiceCollection, HttpMessageHandler> register)
    {
        var clock = new VirtualClock();
        var upstream = new DownUpstream();
        var (provider, client) = ScenarioClients.Build(clock, upstream, register);
        await using var host = provider;

        var attempts = new int[Calls];
        var waits = new double[Calls];
        for (int i = 0; i < Calls; i++)
        {
            int before = upstream.Attempts;
            var took = await VirtualTimeDriver.RunOneAsync(clock, async () =>
            {
                try
                {
                    using var response = await client.GetAsync(Address);
                }
                catch (Exception)
                {
                    // An outage ends in an exception or a 503; either way the call is over.
                }
            });
            attempts[i] = upstream.Attempts - before;
            waits[i] = took.TotalSeconds;
            clock.Advance(Interval);
        }

        int firstFast = Array.IndexOf(attempts, 0);
        var sorted = waits.Order().ToArray();
        ScenarioColumn.Record(method, "Attempts/call", attempts.Average());
        ScenarioColumn.Record(method, "Attempts/call once open", firstFast < 0 ? double.NaN : attempts[firstFast..].Average());
        ScenarioColumn.Record(method, "First fast-fail call", firstFast + 1, "0");
        ScenarioColumn.Record(method, "Wait p50 (s)", sorted[Calls / 2], "0.000");
        ScenarioColumn.Record(method, "Wait p99 (s)", sorted[(int)(Calls * 0.99) - 1], "0.000");
    }

    private sealed class Columns : ManualConfig
    {
        public Columns() => AddColumn(
            new ScenarioColumn("Attempts/call", "Upstream attempts per logical call, all 300 calls"),
            new ScenarioColumn("Attempts/call once open", "Upstream attempts per call from the first call the breaker failed fast"),
            new ScenarioColumn("First fast-fail call", "The first call that reached no upstream"),
            new ScenarioColumn("Wait p50 (s)", "Median time the caller waited (virtual seconds: back-offs included)"),
            new ScenarioColumn("Wait p99 (s)", "99th percentile of the caller's wait (virtual seconds)"));
    }
}
