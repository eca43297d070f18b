using Microsoft.Extensions.DependencyInjection;
using Resilient.Integrations.Alerts;
using Resilient.Integrations.Classification;
using Resilient.Integrations.Redis;
using Resilient.Integrations.Redis.Internal;
using Resilient.Integrations.Tests.Support;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;

namespace Resilient.Integrations.Tests.Alerts;

/// <summary>Alert de-duplication shared by instances through a real Redis: one page for one expired token, whatever the instance count.</summary>
public sealed class RedisAlertClaimsTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static IntegrationHarness Instance(string upstream, string redis, string prefix, TimeSpan? timeout = null) => IntegrationHarness.Create(
        o => o.BaseAddress = new Uri(upstream),
        services: s => s.AddResilientIntegrationsRedis(o =>
        {
            o.Configuration = redis + ",connectTimeout=2000";
            o.KeyPrefix = prefix;
            o.Timeout = timeout ?? TimeSpan.FromSeconds(5); // a loaded machine must not turn a slow claim into a duplicate
        }));

    private static int CriticalAuth(IEnumerable<IReadOnlyList<Alert>> delivered) =>
        delivered.SelectMany(a => a).Count(a => a.Kind == FailureKind.Auth && a.Severity == AlertSeverity.Critical);

    [Fact]
    public async Task Publish_ThreeInstancesMeetAnExpiredToken_OneCriticalInTotal()
    {
        var redis = await RedisServer.RequireAsync();
        using var upstream = LoopbackServer.Start();
        upstream.Given(Request.Create().WithPath("/call")).RespondWith(Response.Create().WithStatusCode(401).WithBody("""{"error":"token expired"}"""));
        string prefix = redis.NewPrefix();
        var instances = new[] { Instance(upstream.Url!, redis.Configuration, prefix), Instance(upstream.Url!, redis.Configuration, prefix), Instance(upstream.Url!, redis.Configuration, prefix) };
        try
        {
            foreach (var instance in instances)
            {
                await instance.GetAsync();
            }

            var delivered = new List<IReadOnlyList<Alert>>();
            foreach (var instance in instances)
            {
                delivered.Add(await instance.SettledAlertsAsync());
            }

            Assert.Equal(3, upstream.LogEntries.Count());
            Assert.Equal(1, CriticalAuth(delivered));
            Assert.All(instances, i => Assert.Contains(i.Logs.GetSnapshot(), l => l.Message.Contains("ALERT Critical", StringComparison.Ordinal))); // each still logs it
        }
        finally
        {
            foreach (var instance in instances)
            {
                await instance.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task Publish_RedisDown_EveryInstanceSendsAndWarnsOnce()
    {
        await using var redis = await RedisServer.StartPrivateAsync();
        using var upstream = LoopbackServer.Start();
        upstream.Given(Request.Create().WithPath("/call")).RespondWith(Response.Create().WithStatusCode(401));
        upstream.Given(Request.Create().WithPath("/other")).RespondWith(Response.Create().WithStatusCode(503));
        string prefix = redis.NewPrefix();
        var instances = new[] { Instance(upstream.Url!, redis.Configuration, prefix, TimeSpan.FromMilliseconds(300)), Instance(upstream.Url!, redis.Configuration, prefix, TimeSpan.FromMilliseconds(300)) };
        await redis.StopAsync();
        try
        {
            var delivered = new List<IReadOnlyList<Alert>>();
            foreach (var instance in instances)
            {
                await instance.GetAsync();
                await instance.GetAsync("/other"); // another kind: a second claim that fails too, and must not warn again
                delivered.Add(await instance.SettledAlertsAsync());
            }

            Assert.Equal(2, CriticalAuth(delivered)); // a duplicate beats silence
            Assert.All(instances, i => Assert.Single(i.Logs.GetSnapshot(), l => l.Id.Id == 51));
        }
        finally
        {
            foreach (var instance in instances)
            {
                await instance.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task ClaimAsync_RepeatThenEscalation_RepeatHeldEscalationSentWithTheCount()
    {
        var redis = await RedisServer.RequireAsync();
        await using var connection = new RedisConnection(new ResilientIntegrationsRedisOptions { Configuration = redis.Configuration, KeyPrefix = redis.NewPrefix() }, null);
        var claims = new RedisAlertClaims(connection);
        var warning = new AlertClaimRequest("crm", "crm\nRateLimit\n", AlertSeverity.Warning, "webhook", TimeSpan.FromMinutes(15));

        var first = await claims.ClaimAsync(warning, Ct);
        var repeat = await claims.ClaimAsync(warning, Ct);
        var otherSink = await claims.ClaimAsync(warning with { Sink = "pager" }, Ct);
        var escalation = await claims.ClaimAsync(warning with { Severity = AlertSeverity.Critical }, Ct);
        var afterEscalation = await claims.ClaimAsync(warning, Ct);

        Assert.Equal(new AlertClaim(true, 0), first);
        Assert.Equal(new AlertClaim(false, 0), repeat);
        Assert.Equal(new AlertClaim(true, 0), otherSink);
        Assert.Equal(new AlertClaim(true, 1), escalation);   // reports the repeat another instance held back
        Assert.False(afterEscalation.Send);
    }

    [Fact]
    public async Task ClaimAsync_OutageRecoveredThenBackWithinTheCooldown_AlertedAndRecoveredAgain()
    {
        var redis = await RedisServer.RequireAsync();
        await using var connection = new RedisConnection(new ResilientIntegrationsRedisOptions { Configuration = redis.Configuration, KeyPrefix = redis.NewPrefix() }, null);
        var claims = new RedisAlertClaims(connection);
        var red = new AlertClaimRequest("crm", "crm\nAuth\n", AlertSeverity.Critical, "pager", TimeSpan.FromMinutes(15));
        var recovered = new AlertClaimRequest("crm", "crm\nNone\n", AlertSeverity.Info, "pager", TimeSpan.FromMinutes(15), EndsEpisode: true);

        Assert.True((await claims.ClaimAsync(red, Ct)).Send);
        Assert.False((await claims.ClaimAsync(red, Ct)).Send);              // another instance, same outage
        Assert.True((await claims.ClaimAsync(recovered, Ct)).Send);
        Assert.False((await claims.ClaimAsync(recovered, Ct)).Send);        // another instance, same recovery
        Assert.True((await claims.ClaimAsync(red, Ct)).Send);               // a new outage within the cooldown still pages
        Assert.False((await claims.ClaimAsync(red, Ct)).Send);
        Assert.True((await claims.ClaimAsync(recovered, Ct)).Send);         // and its recovery still resolves
    }

    [Fact]
    public async Task ClaimAsync_CooldownOver_SentAgain()
    {
        var redis = await RedisServer.RequireAsync();
        await using var connection = new RedisConnection(new ResilientIntegrationsRedisOptions { Configuration = redis.Configuration, KeyPrefix = redis.NewPrefix() }, null);
        var claims = new RedisAlertClaims(connection);
        var alert = new AlertClaimRequest("crm", "crm\nAuth\n", AlertSeverity.Critical, "webhook", TimeSpan.FromMilliseconds(200));

        Assert.True((await claims.ClaimAsync(alert, Ct)).Send);

        // The claim runs out on Redis's clock; whether a repeat still falls inside 200 ms depends on the machine's load,
        // so only the end is asserted here (holding a repeat back is the test above, with a 15-minute cooldown).
        await Eventually.WaitUntilAsync(() => claims.ClaimAsync(alert, Ct).AsTask().GetAwaiter().GetResult().Send);
    }
}
