using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using Microsoft.Extensions.DependencyInjection;
using Resilient.Integrations.Benchmarks.Scenarios;
using Resilient.Integrations.Fallback;

namespace Resilient.Integrations.Benchmarks;

/// <summary>
/// Stale while slow: the upstream answers every read, but only after 5 s (virtual time). 200 reads arrive one after
/// another, 1 s apart, over 8 request shapes whose copies were kept beforehand. Side by side: the same integration without
/// and with <c>Fallback:SoftTimeout</c> = 200 ms (<c>MaxBackgroundRefreshes</c> at its default, 4). Counted: the caller's
/// p50/p99 wait, the share of reads answered from the copy, and upstream requests per read. The time column is the CPU
/// cost of the whole run; the waits are virtual, what a caller would really wait with the in-memory upstream's 5 s.
/// </summary>
[Config(typeof(Columns))]
[WarmupCount(1)]
[IterationCount(3)]
[InvocationCount(1, 1)]
public class StaleWhileSlowBenchmarks
{
    private const int Calls = 200;
    private const int Shapes = 8;
    private static readonly TimeSpan UpstreamDelay = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

    [Benchmark(Baseline = true)]
    public Task NoSoftTimeout() => RunAsync(nameof(NoSoftTimeout), softTimeout: null);

    [Benchmark]
    public Task SoftTimeout200ms() => RunAsync(nameof(SoftTimeout200ms), TimeSpan.FromMilliseconds(200));

    private static async Task RunAsync(string method, TimeSpan? softTimeout)
    {
        var clock = new VirtualClock();
        var upstream = new SlowUpstream(clock, UpstreamDelay);
        var (provider, client) = ScenarioClients.Build(clock, upstream, (services, handler) =>
            services.AddResilientIntegration("x", o => o.Fallback.SoftTimeout = softTimeout).HttpClientBuilder.ConfigurePrimaryHttpMessageHandler(() => handler));
        await using var host = provider;

        // A copy of every shape, fetched live (5 s each) before the measured reads.
        for (int shape = 0; shape < Shapes; shape++)
        {
            await VirtualTimeDriver.RunOneAsync(clock, () => ReadAsync(client, shape));
        }

        int before = upstream.Requests;
        var waits = new double[Calls];
        int fromCopy = 0;
        for (int i = 0; i < Calls; i++)
        {
            int shape = i % Shapes;
            var took = await VirtualTimeDriver.RunOneAsync(clock, async () =>
            {
                if (await ReadAsync(client, shape))
                {
                    Interlocked.Increment(ref fromCopy);
                }
            });
            waits[i] = took.TotalSeconds;
            clock.Advance(Interval); // background refreshes land as time passes
        }

        int requests = upstream.Requests - before;
        clock.Advance(TimeSpan.FromSeconds(10)); // let the last background refreshes land before the host goes

        var sorted = waits.Order().ToArray();
        ScenarioColumn.Record(method, "Wait p50 (s)", sorted[Calls / 2], "0.000");
        ScenarioColumn.Record(method, "Wait p99 (s)", sorted[(int)(Calls * 0.99) - 1], "0.000");
        ScenarioColumn.Record(method, "From copy (%)", 100.0 * fromCopy / Calls, "0.0");
        ScenarioColumn.Record(method, "Upstream requests/read", (double)requests / Calls, "0.00");
    }

    /// <summary>Reads one shape; true when the answer was the kept copy.</summary>
    private static async Task<bool> ReadAsync(HttpClient client, int shape)
    {
        using var response = await client.GetAsync(new Uri($"http://crm.example/v1/deals?page={shape}"));
        await response.Content.ReadAsByteArrayAsync();
        return response.GetDegradation() is not null;
    }

    private sealed class Columns : ManualConfig
    {
        public Columns() => AddColumn(
            new ScenarioColumn("Wait p50 (s)", "Median time the caller waited (virtual seconds)"),
            new ScenarioColumn("Wait p99 (s)", "99th percentile of the caller's wait (virtual seconds)"),
            new ScenarioColumn("From copy (%)", "Reads answered from the kept copy (live data slow)"),
            new ScenarioColumn("Upstream requests/read", "Requests the upstream received per measured read"));
    }
}
