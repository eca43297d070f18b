using System.Diagnostics;
using System.Diagnostics.Tracing;
using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Polly;
using Resilient.Integrations.Benchmarks.Scenarios;

namespace Resilient.Integrations.Benchmarks.Profiling;

/// <summary>
/// A plain loop over the success path, for a profiler (`perf record` with DOTNET_PerfMapEnabled=1) and for an
/// allocation census by type (the runtime's allocation-tick events, one sample per ~100 KB allocated):
/// <c>dotnet run -c Release -- profile ours 2000000 [alloc]</c>; clients: none, standard, ours, ours-bare, polly (Polly's pipeline of the same strategies).
/// </summary>
internal static class SuccessPathLoop
{
    public static async Task RunAsync(string[] args)
    {
        if (args.Length > 1 && args[1] == "copies")
        {
            CopyMemory.Run(args.Length > 2 ? int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 100_000);
            return;
        }

        if (args.Length > 1 && args[1] == "contention")
        {
            await ContentionAsync();
            return;
        }

        if (args.Length > 1 && args[1] == "shapes")
        {
            await ShapesAsync(int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture), int.Parse(args[3], System.Globalization.CultureInfo.InvariantCulture));
            return;
        }

        if (args.Length > 1 && args[1] == "compare")
        {
            await CompareAsync(args.Length > 2 ? int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 15);
            return;
        }

        string name = args.Length > 1 ? args[1] : "ours";
        int count = args.Length > 2 ? int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 2_000_000;
        bool census = args.Contains("alloc");
        var services = Contenders();
        await using var provider = services.BuildServiceProvider();
        var client = provider.GetRequiredService<IHttpClientFactory>().CreateClient(name);
        var address = new Uri("http://crm.example/contacts/1");
        for (int i = 0; i < 20_000; i++)
        {
            using var r = await client.GetAsync(address);
        }

        using var listener = census ? new AllocationCensus() : null;
        long before = GC.GetAllocatedBytesForCurrentThread();
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var watch = Stopwatch.StartNew();
        for (int i = 0; i < count; i++)
        {
            using var r = await client.GetAsync(address);
        }

        watch.Stop();
        long bytes = GC.GetAllocatedBytesForCurrentThread() - before;
        var cpuSpent = Process.GetCurrentProcess().TotalProcessorTime - cpu;
        Console.WriteLine($"{name}: {watch.Elapsed.TotalNanoseconds / count:F0} ns wall, {cpuSpent.TotalNanoseconds / count:F0} ns CPU, {(double)bytes / count:F0} B per request");
        listener?.Print();
    }

    /// <summary>
    /// The contenders, each over the same in-memory API: none, standard, ours, ours-bare (no validation, no copy), ours-nocopy,
    /// ours-novalid, polly (Polly's pipeline of the same strategies).
    /// </summary>
    private static ServiceCollection Contenders()
    {
        var services = new ServiceCollection();
        services.AddHttpClient("none").ConfigurePrimaryHttpMessageHandler(() => new InMemoryApi(InMemoryApi.SmallJson));
        services.AddHttpClient("standard").ConfigurePrimaryHttpMessageHandler(() => new InMemoryApi(InMemoryApi.SmallJson)).AddStandardResilienceHandler();
        services.AddResilientIntegration("ours").HttpClientBuilder.ConfigurePrimaryHttpMessageHandler(() => new InMemoryApi(InMemoryApi.SmallJson));
        services.AddResilientIntegration("ours-bare", o => o.Fallback.Enabled = false).ValidateResponsesWith(null).HttpClientBuilder.ConfigurePrimaryHttpMessageHandler(() => new InMemoryApi(InMemoryApi.SmallJson));
        services.AddResilientIntegration("ours-nocopy", o => o.Fallback.Enabled = false).HttpClientBuilder.ConfigurePrimaryHttpMessageHandler(() => new InMemoryApi(InMemoryApi.SmallJson));
        services.AddResilientIntegration("ours-novalid").ValidateResponsesWith(null).HttpClientBuilder.ConfigurePrimaryHttpMessageHandler(() => new InMemoryApi(InMemoryApi.SmallJson));
        services.AddHttpClient("polly").ConfigurePrimaryHttpMessageHandler(() => new InMemoryApi(InMemoryApi.SmallJson)).AddResilienceHandler("same-strategies", b => b
            .AddTimeout(TimeSpan.FromMinutes(2))
            .AddRetry(new Microsoft.Extensions.Http.Resilience.HttpRetryStrategyOptions())
            .AddCircuitBreaker(new Microsoft.Extensions.Http.Resilience.HttpCircuitBreakerStrategyOptions())
            .AddTimeout(TimeSpan.FromSeconds(30)));
        return services;
    }

    /// <summary>One caller going round <paramref name="shapes"/> request paths, defaults (for a profiler): ns and bytes per request.</summary>
    private static async Task ShapesAsync(int shapes, int count)
    {
        var services = new ServiceCollection();
        services.AddResilientIntegration("ours").HttpClientBuilder.ConfigurePrimaryHttpMessageHandler(() => new InMemoryApi(InMemoryApi.SmallJson, realisticHeaders: true));
        await using var provider = services.BuildServiceProvider();
        var client = provider.GetRequiredService<IHttpClientFactory>().CreateClient("ours");
        var addresses = Enumerable.Range(0, shapes).Select(i => new Uri($"http://crm.example/contacts/{i}")).ToArray();
        for (int i = 0; i < Math.Max(shapes, 20_000); i++)
        {
            using var r = await client.GetAsync(addresses[i % shapes]);
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        var watch = Stopwatch.StartNew();
        for (int i = 0; i < count; i++)
        {
            using var r = await client.GetAsync(addresses[i % shapes]);
        }

        Console.WriteLine($"{shapes} shapes: {watch.Elapsed.TotalNanoseconds / count:F0} ns, {(double)(GC.GetAllocatedBytesForCurrentThread() - before) / count:F0} B per request, gen0/1/2 {GC.CollectionCount(0)}/{GC.CollectionCount(1)}/{GC.CollectionCount(2)}");
    }

    /// <summary>
    /// The contenders in one process, in interleaved blocks of 20,000 requests, <paramref name="rounds"/> rounds: a drift of
    /// the machine's speed hits every contender alike. Prints each one's median and best wall time per request.
    /// </summary>
    private static async Task CompareAsync(int rounds)
    {
        var services = Contenders();
        await using var provider = services.BuildServiceProvider();
        var factory = provider.GetRequiredService<IHttpClientFactory>();
        string[] names = ["none", "standard", "polly", "ours-bare", "ours-nocopy", "ours-novalid", "ours"];
        var clients = names.Select(factory.CreateClient).ToArray();
        var address = new Uri("http://crm.example/contacts/1");
        var times = names.Select(_ => new List<double>()).ToArray();
        const int Block = 20_000;
        for (int round = -2; round < rounds; round++)
        {
            for (int c = 0; c < clients.Length; c++)
            {
                var watch = Stopwatch.StartNew();
                for (int i = 0; i < Block; i++)
                {
                    using var r = await clients[c].GetAsync(address);
                }

                if (round >= 0)
                {
                    times[c].Add(watch.Elapsed.TotalNanoseconds / Block);
                }
            }
        }

        double standard = Median(times[1]);
        for (int c = 0; c < names.Length; c++)
        {
            Console.WriteLine($"{names[c],-10} median {Median(times[c]),6:F0} ns  best {times[c].Min(),6:F0} ns  ratio to standard {Median(times[c]) / standard:F2}");
        }

        static double Median(List<double> values)
        {
            var sorted = values.Order().ToList();
            return sorted[sorted.Count / 2];
        }
    }

    /// <summary>Lock contentions (Monitor.LockContentionCount) per 1,000 requests with 64 callers, ours against the standard handler.</summary>
    private static async Task ContentionAsync()
    {
        var services = new ServiceCollection();
        services.AddHttpClient("standard").ConfigurePrimaryHttpMessageHandler(() => new InMemoryApi(InMemoryApi.SmallJson)).AddStandardResilienceHandler();
        services.AddResilientIntegration("ours").HttpClientBuilder.ConfigurePrimaryHttpMessageHandler(() => new InMemoryApi(InMemoryApi.SmallJson));
        await using var provider = services.BuildServiceProvider();
        var factory = provider.GetRequiredService<IHttpClientFactory>();
        foreach (var name in (string[])["standard", "ours", "standard", "ours"])
        {
            var client = factory.CreateClient(name);
            await ConcurrencyBenchmarks.RunAsync(client, 64);
            long before = Monitor.LockContentionCount;
            var watch = Stopwatch.StartNew();
            for (int round = 0; round < 50; round++)
            {
                await ConcurrencyBenchmarks.RunAsync(client, 64);
            }

            double requests = 50.0 * 4096;
            Console.WriteLine($"{name}: {watch.Elapsed.TotalNanoseconds / requests:F0} ns per request, {(Monitor.LockContentionCount - before) * 1000 / requests:F2} lock contentions per 1,000 requests");
        }
    }


    private sealed class AllocationCensus : EventListener
    {
        private readonly Dictionary<string, long> _byType = [];

        protected override void OnEventSourceCreated(EventSource source)
        {
            if (source.Name == "Microsoft-Windows-DotNETRuntime")
            {
                EnableEvents(source, EventLevel.Verbose, (EventKeywords)0x1);
            }
        }

        protected override void OnEventWritten(EventWrittenEventArgs e)
        {
            if (e.EventName == "GCAllocationTick_V4" && e.Payload is { } payload)
            {
                string type = (string)payload[e.PayloadNames!.IndexOf("TypeName")]!;
                lock (_byType)
                {
                    _byType[type] = _byType.GetValueOrDefault(type) + 1;
                }
            }
        }

        public void Print()
        {
            lock (_byType)
            {
                long total = _byType.Values.Sum();
                foreach (var (type, n) in _byType.OrderByDescending(p => p.Value).Take(30))
                {
                    Console.WriteLine($"{100.0 * n / total,6:F1}%  {type}");
                }
            }
        }
    }
}
