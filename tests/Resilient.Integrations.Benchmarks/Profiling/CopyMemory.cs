using Microsoft.Extensions.DependencyInjection;
using Resilient.Integrations.Benchmarks.Scenarios;
using Resilient.Integrations.Fallback.Internal;
using Resilient.Integrations.Policies.Internal;

namespace Resilient.Integrations.Benchmarks.Profiling;

/// <summary>
/// What kept copies really hold on the heap, against what the size limit counts: 100,000 distinct GETs through an
/// integration (a 56-byte JSON body and four ordinary response headers), the live heap measured after a full GC
/// before and after, once with room for every copy and once under the default 32 MiB limit.
/// <c>dotnet run -c Release -- profile copies 100000</c>.
/// </summary>
internal static class CopyMemory
{
    public static void Run(int copies)
    {
        foreach (long limit in (long[])[4L * 1024 * 1024 * 1024, 32L * 1024 * 1024])
        {
            var services = new ServiceCollection();
            // Every copy kept (no budget per second): what a copy holds against the limit is what is measured.
            services.AddResilientIntegration("ours", o => (o.Fallback.SizeLimitBytes, o.Fallback.MaxCopiesPerSecond) = (limit, int.MaxValue))
                .HttpClientBuilder.ConfigurePrimaryHttpMessageHandler(() => new InMemoryApi(InMemoryApi.SmallJson, realisticHeaders: true));
            using var provider = services.BuildServiceProvider();
            var client = provider.GetRequiredService<IHttpClientFactory>().CreateClient("ours");
            Send(client, "warm", 200);
            long before = LiveHeap();
            Send(client, "contacts", copies);
            Thread.Sleep(2000); // the cache compacts in the background when full
            long after = LiveHeap();

            var store = provider.GetRequiredService<IntegrationRegistry>().Get("ours").LastKnownGood;
            using var sample = new HttpClient(new InMemoryApi(InMemoryApi.SmallJson, realisticHeaders: true)).GetAsync(new Uri("http://crm.example/x")).GetAwaiter().GetResult();
            long counted = StoredResponse.From(sample, InMemoryApi.SmallJson, DateTimeOffset.UtcNow, _ => false).Size;
            long held = after - before;
            Console.WriteLine(
                $"limit {limit / (1024 * 1024)} MiB: {copies:N0} copies sent, {store.MarkCount:N0} marks; live heap +{held / (1024.0 * 1024):F1} MiB " +
                $"({held / (double)copies:F0} B per copy sent); counted per copy {counted} B; " +
                $"heap / limit {(double)held / limit:P1}; heap / counted-if-all-kept {(double)held / (counted * copies):P1}");
            GC.KeepAlive(client);
        }
    }

    private static void Send(HttpClient client, string path, int count)
    {
        for (int i = 0; i < count; i++)
        {
            using var response = client.GetAsync(new Uri($"http://crm.example/{path}/{i}")).GetAwaiter().GetResult();
        }
    }

    private static long LiveHeap()
    {
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        return GC.GetTotalMemory(forceFullCollection: true);
    }
}
