using Microsoft.Extensions.Time.Testing;
using Resilient.Integrations.Testing;
using Resilient.Integrations.Tests.Support;

namespace Resilient.Integrations.Tests.Drills;

public sealed class UpstreamFaultsTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task InjectTokenExpiry_BeforeAndAfterTheMoment_ServesThenRefuses()
    {
        using var server = LoopbackServer.Start();
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 11, 23, 5, 50, 0, TimeSpan.Zero));
        server.InjectTokenExpiry("/v1/deals", new DateTimeOffset(2026, 11, 23, 5, 58, 0, TimeSpan.Zero), clock);
        using var http = new HttpClient { BaseAddress = new Uri(server.Url!) };

        using var before = await http.GetAsync("/v1/deals", Ct);
        clock.Advance(TimeSpan.FromMinutes(8));
        using var after = await http.GetAsync("/v1/deals", Ct);

        Assert.Equal(200, (int)before.StatusCode);
        Assert.Equal(401, (int)after.StatusCode);
        Assert.Contains("invalid_api_key", await after.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
    }

    [Fact]
    public async Task InjectTokenBucket_BurstPastCapacity_RefusesWithTheExactWaitThenRefills()
    {
        using var server = LoopbackServer.Start();
        var clock = new FakeTimeProvider();
        var quota = new TokenBucketQuota(2, TimeSpan.FromMilliseconds(100), clock);
        server.InjectTokenBucket("/v1/chat", quota);
        using var http = new HttpClient { BaseAddress = new Uri(server.Url!) };

        var burst = new List<int>();
        for (int i = 0; i < 3; i++)
        {
            using var answer = await http.GetAsync("/v1/chat", Ct);
            burst.Add((int)answer.StatusCode);
        }

        clock.Advance(TimeSpan.FromMilliseconds(40));
        using var early = await http.GetAsync("/v1/chat", Ct);
        clock.Advance(TimeSpan.FromMilliseconds(60));
        using var refilled = await http.GetAsync("/v1/chat", Ct);

        Assert.Equal([200, 200, 429], burst);
        Assert.Equal("60", early.Headers.GetValues("retry-after-ms").Single());
        Assert.Equal("1", early.Headers.GetValues("Retry-After").Single());
        Assert.Equal(200, (int)refilled.StatusCode);
        Assert.Equal(3, quota.Accepted);
        Assert.Equal(2, quota.Refused);
    }
}
