using System.Net;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Resilient.Integrations.Fallback;
using Resilient.Integrations.Fallback.Internal;
using Resilient.Integrations.Policies;
using Resilient.Integrations.Tests.Support;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;

namespace Resilient.Integrations.Tests.Fallback;

/// <summary>
/// Last good copies shared by instances (<c>Fallback:Shared</c>): what one instance fetched, another serves during an
/// outage, one started after it began included; the shared tier failing only leaves each instance its own copies.
/// Instances are separate service providers against one upstream and one real Redis (or one shared cache).
/// </summary>
public sealed class SharedCopiesTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static IntegrationHarness Instance(string upstream, Action<IServiceCollection> cache, DateTimeOffset? start = null, TimeSpan? sharedTimeout = null) => IntegrationHarness.Create(
        o =>
        {
            o.BaseAddress = new Uri(upstream);
            o.Fallback.Shared = true;
            o.Fallback.SharedTimeout = sharedTimeout ?? TimeSpan.FromSeconds(2); // generous for a loaded machine
            o.Unavailable.MaxRetries = 0;
        },
        services: cache,
        start: start);

    private static Action<IServiceCollection> Redis(RedisServer redis, string prefix) =>
        s => s.AddStackExchangeRedisCache(o =>
        {
            o.Configuration = redis.Configuration + ",abortConnect=false,connectTimeout=2000";
            o.InstanceName = prefix;
        });

    private static void Answer(WireMockServer upstream, int status, string body = """{"revenue":42}""") =>
        upstream.Given(Request.Create().WithPath("/report").UsingGet())
            .RespondWith(Response.Create().WithStatusCode(status).WithHeader("Content-Type", "application/json").WithBody(body));

    private static async Task<HttpResponseMessage> GetReportAsync(IntegrationHarness h) =>
        await h.Clock.RunAsync(h.Client.GetAsync("/report", Ct));

    /// <summary>Whether the call was answered 200 (live or from a copy); a failure, as while no copy is there yet, is false.</summary>
    private static bool Answered(IntegrationHarness h, out HttpResponseMessage? response)
    {
        try
        {
            response = GetReportAsync(h).GetAwaiter().GetResult();
            return response.StatusCode == HttpStatusCode.OK;
        }
        catch (IntegrationFailureException)
        {
            response = null;
            return false;
        }
    }

    [Fact]
    public async Task Serve_CopyFetchedByAnotherInstance_ServedByItAndByOneStartedDuringTheOutage()
    {
        var redis = await RedisServer.RequireAsync();
        string prefix = redis.NewPrefix();
        using var upstream = LoopbackServer.Start();
        Answer(upstream, 200);
        await using var a = Instance(upstream.Url!, Redis(redis, prefix));
        await using var b = Instance(upstream.Url!, Redis(redis, prefix));
        using (var live = await GetReportAsync(a))
        {
            Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        }

        Answer(upstream, 503);
        b.Clock.Advance(TimeSpan.FromHours(2));

        // Written behind A's success: B finds it once it is there.
        HttpResponseMessage? served = null;
        await Eventually.WaitUntilAsync(() => Answered(b, out served));
        await using var c = Instance(upstream.Url!, Redis(redis, prefix), start: b.Clock.GetUtcNow());
        using var servedByNewcomer = await GetReportAsync(c);

        Assert.Equal("""{"revenue":42}""", await served!.Content.ReadAsStringAsync(Ct));
        var degradation = served.GetDegradation()!;
        Assert.Equal((a.Clock.GetUtcNow(), TimeSpan.FromHours(2)), (degradation.AsOf, degradation.Age));
        Assert.Equal(HttpStatusCode.OK, servedByNewcomer.StatusCode);
        Assert.Equal(a.Clock.GetUtcNow(), servedByNewcomer.GetDegradation()!.AsOf);
        Assert.Equal(1, upstream.LogEntries.Count(e => e.ResponseMessage!.StatusCode is 200));
        served.Dispose();
    }

    [Fact]
    public async Task Serve_RedisStoppedMidRun_OwnCopyServedNothingFailsOneWarningThenSharingResumes()
    {
        await using var redis = await RedisServer.StartPrivateAsync();
        string prefix = redis.NewPrefix();
        using var upstream = LoopbackServer.Start();
        Answer(upstream, 200);
        await using var a = Instance(upstream.Url!, Redis(redis, prefix), sharedTimeout: TimeSpan.FromMilliseconds(300));
        (await GetReportAsync(a)).Dispose();

        await redis.StopAsync();
        Answer(upstream, 503);
        a.Clock.Advance(TimeSpan.FromMinutes(5));
        using var first = await GetReportAsync(a);
        using var second = await GetReportAsync(a);

        Assert.Equal((HttpStatusCode.OK, HttpStatusCode.OK), (first.StatusCode, second.StatusCode)); // its own copy, despite Redis
        Assert.Single(a.Logs.GetSnapshot(), l => l.Id.Id == 48);

        // Redis back (empty: persistence is off): the next success is shared again, and another instance serves it.
        await redis.StartAsync();
        Answer(upstream, 200, """{"revenue":43}""");
        a.Clock.Advance(TimeSpan.FromMinutes(1));
        await using var b = Instance(upstream.Url!, Redis(redis, prefix), start: a.Clock.GetUtcNow());
        await Eventually.WaitUntilAsync(() => a.Logs.GetSnapshot().Any(l => l.Id.Id == 49) || SucceedsAndShares(a));
        Answer(upstream, 503);
        HttpResponseMessage? served = null;
        await Eventually.WaitUntilAsync(() => Answered(b, out served));

        Assert.Equal("""{"revenue":43}""", await served!.Content.ReadAsStringAsync(Ct));
        served.Dispose();
    }

    // A success after the shared tier came back writes its copy behind; true once a write got through.
    private static bool SucceedsAndShares(IntegrationHarness h)
    {
        h.Clock.Advance(TimeSpan.FromSeconds(2)); // past RefreshInterval, so the success is kept (and shared) again
        GetReportAsync(h).GetAwaiter().GetResult().Dispose();
        return h.Logs.GetSnapshot().Any(l => l.Id.Id == 49);
    }

    [Fact]
    public async Task Serve_BothTiersHoldACopy_TheNewerIsServedWithItsAge()
    {
        using var upstream = LoopbackServer.Start();
        var cache = new MemoryDistributedCache(Options.Create(new MemoryDistributedCacheOptions()));
        Action<IServiceCollection> shared = s => s.AddSingleton<IDistributedCache>(cache);
        await using var a = Instance(upstream.Url!, shared);
        await using var b = Instance(upstream.Url!, shared);
        Answer(upstream, 200, """{"revenue":1}""");
        (await GetReportAsync(a)).Dispose();                          // A's copy at 06:00
        await Eventually.WaitUntilAsync(() => SharedFetchTime(cache) == a.Clock.GetUtcNow());
        b.Clock.Advance(TimeSpan.FromMinutes(30));
        Answer(upstream, 200, """{"revenue":2}""");
        (await GetReportAsync(b)).Dispose();                          // B's copy at 06:30, shared
        await Eventually.WaitUntilAsync(() => SharedFetchTime(cache) == b.Clock.GetUtcNow());

        Answer(upstream, 503);
        a.Clock.Advance(TimeSpan.FromHours(1));
        using var servedToA = await GetReportAsync(a);                // the shared copy is newer than A's own
        b.Clock.Advance(TimeSpan.FromMinutes(30));
        using var servedToB = await GetReportAsync(b);

        Assert.Equal("""{"revenue":2}""", await servedToA.Content.ReadAsStringAsync(Ct));
        Assert.Equal(TimeSpan.FromMinutes(30), servedToA.GetDegradation()!.Age);
        Assert.Equal("""{"revenue":2}""", await servedToB.Content.ReadAsStringAsync(Ct));
    }

    /// <summary>When the one shared copy was fetched, or null before one was written.</summary>
    private static DateTimeOffset? SharedFetchTime(MemoryDistributedCache cache)
    {
        // MemoryDistributedCache cannot list its keys: its inner MemoryCache can.
        var inner = (MemoryCache)typeof(MemoryDistributedCache).GetField("_memCache", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance)!.GetValue(cache)!;
        return inner.Keys.SingleOrDefault() is string key && cache.Get(key) is { } bytes ? StoredResponse.FromBytes(bytes).FetchedAt : null;
    }

    [Fact]
    public void Validate_SharedWithoutDistributedCache_FailsAtStartNamingTheKey()
    {
        var services = new ServiceCollection();
        services.AddResilientIntegration("crm", o =>
        {
            o.BaseAddress = new Uri("http://127.0.0.1:1");
            o.Fallback.Shared = true;
        });
        using var provider = services.BuildServiceProvider();

        var ex = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptionsMonitor<ResilientIntegrationOptions>>().Get("crm"));

        Assert.Contains("ResilientIntegrations:crm:Fallback:Shared", ex.Message, StringComparison.Ordinal);
        Assert.Contains("AddStackExchangeRedisCache", ex.Message, StringComparison.Ordinal);
    }
}
