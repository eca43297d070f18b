using System.Diagnostics;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using Microsoft.Extensions.DependencyInjection;
using Resilient.Integrations.Benchmarks.Scenarios;
using Resilient.Integrations.Failover;
using Resilient.Integrations.Fallback;
using Resilient.Integrations.Testing;
using WireMock.Server;
using WireMock.Settings;

namespace Resilient.Integrations.Benchmarks;

/// <summary>
/// Failover on loopback, real time, real HTTP: the primary is 100% down (connection refused, or 503), the secondary
/// (a WireMock.Net server) healthy. 2,000 GETs one after another, each also sent, interleaved, straight to the
/// secondary through an integration without failover, so both arms see the same machine at the same moment. Counted:
/// the share answered live (neither a copy nor a failure), and the p50/p99 of each call's wall time once the
/// primary's circuit is open, with the added p99 against the direct calls. The time column is the whole run's.
/// </summary>
[Config(typeof(Columns))]
[WarmupCount(1)]
[IterationCount(3)]
[InvocationCount(1, 1)]
public class FailoverBenchmarks
{
    private const int Calls = 2000;
    private const string Path = "/v1/deals";

    private WireMockServer _secondary = null!;
    private WireMockServer _failing = null!;
    private RefusedPort _refused = null!;

    [GlobalSetup]
    public void Start()
    {
        _secondary = WireMockServer.Start(new WireMockServerSettings { Urls = ["http://127.0.0.1:0"] });
        _secondary.ServeHealthy(Path);
        _failing = WireMockServer.Start(new WireMockServerSettings { Urls = ["http://127.0.0.1:0"] });
        _failing.Inject(FaultScenario.Down, Path);
        _refused = RefusedPort.Hold();
    }

    [GlobalCleanup]
    public void Stop()
    {
        _secondary.Stop();
        _failing.Stop();
        _refused.Dispose();
    }

    [Benchmark(Baseline = true)]
    public Task Direct() => RunAsync(nameof(Direct), primary: null);

    [Benchmark]
    public Task PrimaryRefused() => RunAsync(nameof(PrimaryRefused), _refused.Url);

    [Benchmark]
    public Task Primary503() => RunAsync(nameof(Primary503), new Uri(_failing.Url!));

    private async Task RunAsync(string method, Uri? primary)
    {
        var services = new ServiceCollection();
        var secondary = new Uri(_secondary.Url!);
        services.AddResilientIntegration("direct", o => o.BaseAddress = secondary);
        services.AddResilientIntegration("failover", o =>
        {
            o.BaseAddress = primary ?? secondary;
            if (primary is not null)
            {
                o.Failover.Endpoints.Add(secondary);
                o.Failover.Alert = null;
            }
        });
        await using var provider = services.BuildServiceProvider();
        var factory = provider.GetRequiredService<IHttpClientFactory>();
        var direct = factory.CreateClient("direct");
        var failover = factory.CreateClient("failover");

        // Until the primary's circuit opens (10 calls by default), each call meets the primary first.
        const int Opening = 20;
        int live = 0;
        for (int i = 0; i < Opening; i++)
        {
            live += (await CallAsync(failover)).Live ? 1 : 0;
            await CallAsync(direct);
        }

        var theirs = new double[Calls];
        var ours = new double[Calls];
        for (int i = 0; i < Calls; i++)
        {
            (ours[i], bool answered) = await CallAsync(failover);
            live += answered ? 1 : 0;
            (theirs[i], _) = await CallAsync(direct);
        }

        double p99 = Percentile(ours, 0.99), directP99 = Percentile(theirs, 0.99);
        ScenarioColumn.Record(method, "Answered live", 100.0 * live / (Calls + Opening), "0.0'%'");
        ScenarioColumn.Record(method, "p50 (ms)", Percentile(ours, 0.5), "0.000");
        ScenarioColumn.Record(method, "p99 (ms)", p99, "0.000");
        ScenarioColumn.Record(method, "Direct p99 (ms)", directP99, "0.000");
        ScenarioColumn.Record(method, "Added p99 (ms)", p99 - directP99, "0.000");
    }

    private static async Task<(double Milliseconds, bool Live)> CallAsync(HttpClient client)
    {
        long start = Stopwatch.GetTimestamp();
        try
        {
            using var response = await client.GetAsync(Path);
            await response.Content.ReadAsByteArrayAsync();
            return (Stopwatch.GetElapsedTime(start).TotalMilliseconds, response.IsSuccessStatusCode && response.GetDegradation() is null);
        }
        catch (IntegrationFailureException)
        {
            return (Stopwatch.GetElapsedTime(start).TotalMilliseconds, false);
        }
    }

    private static double Percentile(double[] values, double share)
    {
        var sorted = values.Order().ToArray();
        return sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(sorted.Length * share) - 1)];
    }

    private sealed class Columns : ManualConfig
    {
        public Columns() => AddColumn(
            new ScenarioColumn("Answered live", "Share of all 2,020 calls (the 20 before the circuit opened included) answered live by an endpoint (not a copy, not a failure)"),
            new ScenarioColumn("p50 (ms)", "Median wall time of a call once the primary's circuit is open"),
            new ScenarioColumn("p99 (ms)", "99th percentile of a call's wall time once the primary's circuit is open"),
            new ScenarioColumn("Direct p99 (ms)", "The same, for the interleaved calls straight to the secondary without failover"),
            new ScenarioColumn("Added p99 (ms)", "p99 minus the direct p99: what failing over costs once the circuit is open"));
    }
}
