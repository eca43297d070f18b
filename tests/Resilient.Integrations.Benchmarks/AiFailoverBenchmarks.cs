using System.ClientModel;
using System.ClientModel.Primitives;
using System.Diagnostics;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using OpenAI;
using Resilient.Integrations.AI.Failover;
using Resilient.Integrations.Benchmarks.Scenarios;
using Resilient.Integrations.Classification;

namespace Resilient.Integrations.Benchmarks;

/// <summary>
/// AI failover: the primary ("openai") answers every call 503, the secondary ("azure-gpt-4o") is healthy; both are
/// Kestrel servers on loopback spoken to by the official OpenAI SDK's IChatClient on a plain HttpClient (its retries
/// off). Side by side: the secondary alone with no failover (baseline), the primary alone with no failover, and
/// <c>UseFailover</c>. Counted: the share of calls answered live, and, once the primary's circuit is open, each
/// call's real latency; the failover's added latency is measured against calls to the secondary alone interleaved
/// with its own, so both see the same machine. The primary's back-offs are 1 ms so the run does not sit out
/// seconds of real time before its breaker (as by default: 10 attempts, half of them failed) opens.
/// </summary>
[Config(typeof(Columns))]
[WarmupCount(1)]
[IterationCount(3)]
[InvocationCount(1, 1)]
public class AiFailoverBenchmarks
{
    private const int Calls = 3000;
    private const string PrimaryName = "openai";
    private const string SecondaryName = "azure-gpt-4o";
    private static readonly HttpClient PlainHttp = new();
    private static readonly List<ChatMessage> Prompt = [new(ChatRole.User, "Summarise the week")];

    private LoopbackChatUpstream _down = null!;
    private LoopbackChatUpstream _healthy = null!;

    [GlobalSetup]
    public void Start()
    {
        _down = LoopbackChatUpstream.StartAsync(503, LoopbackChatUpstream.Overloaded).GetAwaiter().GetResult();
        _healthy = LoopbackChatUpstream.StartAsync(200, LoopbackChatUpstream.Completion).GetAwaiter().GetResult();
    }

    [GlobalCleanup]
    public void Stop()
    {
        _down.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _healthy.DisposeAsync().AsTask().GetAwaiter().GetResult();
    }

    [Benchmark(Baseline = true)]
    public async Task SecondaryAlone()
    {
        await using var provider = Services();
        var secondary = new ChatClientBuilder(Sdk(_healthy)).UseResilience(SecondaryName).Build(provider);
        var latencies = new double[Calls];
        int live = 0;
        for (int i = 0; i < Calls; i++)
        {
            (latencies[i], bool answered) = await TimedAsync(secondary).ConfigureAwait(false);
            live += answered ? 1 : 0;
        }

        Record(nameof(SecondaryAlone), Calls, live, double.NaN, latencies, null);
    }

    [Benchmark]
    public async Task PrimaryAloneNoFailover()
    {
        await using var provider = Services();
        var primary = new ChatClientBuilder(Sdk(_down)).UseResilience(PrimaryName).Build(provider);
        var (opening, openingLive) = await OpenCircuitAsync(primary).ConfigureAwait(false);
        var latencies = new double[Calls];
        int live = openingLive, before = _down.Attempts;
        for (int i = 0; i < Calls; i++)
        {
            (latencies[i], bool answered) = await TimedAsync(primary).ConfigureAwait(false);
            live += answered ? 1 : 0;
        }

        Record(nameof(PrimaryAloneNoFailover), opening + Calls, live, (_down.Attempts - before) / (double)Calls, latencies, null);
    }

    [Benchmark]
    public async Task Failover()
    {
        await using var provider = Services();
        var secondarySdk = Sdk(_healthy);
        var failover = new ChatClientBuilder(Sdk(_down)).UseFailover(o => o.AddSecondary(SecondaryName, secondarySdk)).UseResilience(PrimaryName).Build(provider);
        var alone = new ChatClientBuilder(secondarySdk).UseResilience(SecondaryName).Build(provider);
        var (opening, openingLive) = await OpenCircuitAsync(failover).ConfigureAwait(false);

        var latencies = new double[Calls];
        var baseline = new double[Calls];
        int live = openingLive, before = _down.Attempts;
        for (int i = 0; i < Calls; i++)
        {
            (latencies[i], bool answered) = await TimedAsync(failover).ConfigureAwait(false);
            live += answered ? 1 : 0;
            (baseline[i], _) = await TimedAsync(alone).ConfigureAwait(false);
        }

        Record(nameof(Failover), opening + Calls, live, (_down.Attempts - before) / (double)Calls, latencies, baseline);
    }

    private static ServiceProvider Services()
    {
        var services = new ServiceCollection();
        services.AddResilientIntegration(PrimaryName, o =>
        {
            foreach (var kind in Enum.GetValues<FailureKind>())
            {
                o.PolicyFor(kind).BaseDelay = TimeSpan.FromMilliseconds(1);
            }
        }).ForOpenAI(o => o.HealthProbe = false);
        services.AddResilientIntegration(SecondaryName).ForOpenAI(o => o.HealthProbe = false);
        return services.BuildServiceProvider();
    }

    private static IChatClient Sdk(LoopbackChatUpstream upstream) =>
        new OpenAI.Chat.ChatClient("gpt-4o-mini", new ApiKeyCredential("sk-bench"), new OpenAIClientOptions
        {
            Endpoint = upstream.Endpoint,
            Transport = new HttpClientPipelineTransport(PlainHttp),
            RetryPolicy = new ClientRetryPolicy(maxRetries: 0),
        }).AsIChatClient();

    /// <summary>Calls until one call no longer reaches the primary (its circuit is open); returns the calls made and how many were answered live.</summary>
    private async Task<(int Calls, int Live)> OpenCircuitAsync(IChatClient chat)
    {
        for (int calls = 1, live = 0; ; calls++)
        {
            int before = _down.Attempts;
            live += (await TimedAsync(chat).ConfigureAwait(false)).Live ? 1 : 0;
            if (_down.Attempts == before)
            {
                return (calls, live);
            }
        }
    }

    /// <summary>One call: its latency in milliseconds and whether a live answer came back (not a copy, not a failure).</summary>
    private static async Task<(double Milliseconds, bool Live)> TimedAsync(IChatClient chat)
    {
        long started = Stopwatch.GetTimestamp();
        bool live;
        try
        {
            var response = await chat.GetResponseAsync(Prompt).ConfigureAwait(false);
            live = response.Text == "Weekly summary" && response.GetFailover() is not { Step: not ChatFailoverStep.Secondary };
        }
        catch (IntegrationFailureException)
        {
            live = false;
        }

        return (Stopwatch.GetElapsedTime(started).TotalMilliseconds, live);
    }

    private static void Record(string method, int calls, int live, double primaryAttempts, double[] latencies, double[]? baseline)
    {
        ScenarioColumn.Record(method, "Calls", calls, "0");
        ScenarioColumn.Record(method, "Answered live (%)", 100.0 * live / calls, "0.0");
        ScenarioColumn.Record(method, "Primary attempts/call once open", primaryAttempts, "0.000");
        ScenarioColumn.Record(method, "p50 (ms)", Percentile(latencies, 0.50), "0.000");
        ScenarioColumn.Record(method, "p99 (ms)", Percentile(latencies, 0.99), "0.000");
        if (baseline is not null)
        {
            // A p99 of loopback calls on a shared machine moves with the scheduler: the median over the runs so far is shown.
            Added.Add((Percentile(latencies, 0.50) - Percentile(baseline, 0.50), Percentile(latencies, 0.99) - Percentile(baseline, 0.99)));
            ScenarioColumn.Record(method, "Added p50 (ms)", Median(Added.Select(a => a.P50)), "0.000");
            ScenarioColumn.Record(method, "Added p99 (ms)", Median(Added.Select(a => a.P99)), "0.000");
        }
    }

    private static readonly List<(double P50, double P99)> Added = [];

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }

    private static double Percentile(double[] values, double share)
    {
        var sorted = values.Order().ToArray();
        return sorted[Math.Max(0, (int)Math.Ceiling(sorted.Length * share) - 1)];
    }

    private sealed class Columns : ManualConfig
    {
        public Columns() => AddColumn(
            new ScenarioColumn("Calls", "Logical calls, including those made before the primary's circuit opened"),
            new ScenarioColumn("Answered live (%)", "Share of all calls answered with a live answer (by the primary or a secondary)"),
            new ScenarioColumn("Primary attempts/call once open", "Attempts that reached the primary per call, once its circuit had opened"),
            new ScenarioColumn("p50 (ms)", "Median real latency of a call once the primary's circuit is open (loopback)"),
            new ScenarioColumn("p99 (ms)", "99th percentile of the real latency once the primary's circuit is open"),
            new ScenarioColumn("Added p50 (ms)", "Failover's p50 minus that of the secondary alone, calls interleaved; median over the runs (warm-up included)"),
            new ScenarioColumn("Added p99 (ms)", "Failover's p99 minus that of the secondary alone, calls interleaved; median over the runs (warm-up included)"));
    }
}
