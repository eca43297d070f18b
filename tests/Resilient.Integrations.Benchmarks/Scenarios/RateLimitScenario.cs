using Resilient.Integrations.Fallback;
using Resilient.Integrations.Testing;

namespace Resilient.Integrations.Benchmarks.Scenarios;

/// <summary>
/// The rate-limit scenario both rate-limit benchmarks run: an OpenAI-style upstream behind a token-bucket quota of
/// 10 requests per second (burst 10) that answers 429 with the exact retry-after-ms; calls arrive at 20 per second for
/// 60 virtual seconds, twice the quota, spread in turn over the clients given (one per instance).
/// </summary>
internal static class RateLimitScenario
{
    public const int Capacity = 10;
    public static readonly TimeSpan RefillEvery = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan Duration = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(50);
    private static readonly Uri Address = new("http://ai.example/v1/chat/completions");

    /// <summary>Runs the scenario and records its columns for <paramref name="method"/>.</summary>
    /// <param name="method">The benchmark method the columns belong to.</param>
    /// <param name="clients">Builds the clients on the scenario's clock and upstream; they are disposed with their providers.</param>
    public static async Task RunAsync(string method, Func<VirtualClock, HttpMessageHandler, (IAsyncDisposable Provider, HttpClient Client)[]> clients)
    {
        var clock = new VirtualClock();
        var quota = new TokenBucketQuota(Capacity, RefillEvery, clock);
        var contenders = clients(clock, new QuotaUpstream(quota));
        int ok = 0, stale = 0, failed = 0, next = 0;
        var started = clock.GetUtcNow();
        try
        {
            await VirtualTimeDriver.RunOpenLoopAsync(clock, Duration, Interval, async () =>
            {
                var client = contenders[(Interlocked.Increment(ref next) - 1) % contenders.Length].Client;
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
        ScenarioColumn.Record(method, "Goodput % of quota", 100 * quota.Accepted / allowed, "0.0");
        ScenarioColumn.Record(method, "429 % of requests", upstreamRequests == 0 ? 0 : 100 * quota.Refused / upstreamRequests, "0.0");
        ScenarioColumn.Record(method, "Calls ok", ok, "0");
        ScenarioColumn.Record(method, "Calls stale", stale, "0");
        ScenarioColumn.Record(method, "Calls failed", failed, "0");
        ScenarioColumn.Record(method, "Run (virtual s)", elapsed.TotalSeconds, "0.0");
    }

    /// <summary>The columns the scenario records.</summary>
    public static ScenarioColumn[] Columns() =>
    [
        new("Goodput % of quota", "Requests the quota accepted, as a share of what it allowed over the run"),
        new("429 % of requests", "Upstream requests answered 429"),
        new("Calls ok", "Logical calls (1,200 offered) answered live with a 200"),
        new("Calls stale", "Logical calls answered from the last good copy (marked stale) because the quota could not serve them in time"),
        new("Calls failed", "Logical calls that ended in a failure"),
        new("Run (virtual s)", "Virtual time until the last call ended"),
    ];
}
