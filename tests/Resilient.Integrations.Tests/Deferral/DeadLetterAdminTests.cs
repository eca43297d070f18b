using System.Net;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Resilient.Integrations.Alerts;
using Resilient.Integrations.Deferral;
using Resilient.Integrations.Tests.Support;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;

namespace Resilient.Integrations.Tests.Deferral;

/// <summary>What operators do with dead letters (<see cref="IDeferredWriteAdmin"/>), and the reminder that some wait.</summary>
public sealed class DeadLetterAdminTests
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(30);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static (IntegrationHarness Harness, InMemoryDeferredWriteStore Store) Create(
        Action<Resilient.Integrations.Policies.ResilientIntegrationOptions>? configure = null, Action<IServiceCollection>? services = null, IAlertSink? pager = null)
    {
        InMemoryDeferredWriteStore? store = null;
        var h = IntegrationHarness.Create(
            o =>
            {
                o.Deferral.DeferWrites = true;
                configure?.Invoke(o);
            },
            build: b =>
            {
                if (pager is not null)
                {
                    b.AddAlertSink(pager);
                }
            },
            services: s =>
            {
                s.AddSingleton<IDeferredWriteStore>(sp => store = new InMemoryDeferredWriteStore(sp.GetRequiredService<TimeProvider>()));
                services?.Invoke(s);
            });
        _ = h.Provider.GetRequiredService<IDeferredWriteStore>();
        return (h, store!);
    }

    private static IDeferredWriteAdmin Admin(IntegrationHarness h) => h.Provider.GetRequiredService<IDeferredWriteAdmin>();

    private static DeferredWrite Write(IntegrationHarness h, string uri, string key) => new()
    {
        Integration = "crm",
        Method = "POST",
        Uri = new Uri(uri, UriKind.Relative),
        Headers = [new("Content-Type", "application/json")],
        Body = Encoding.UTF8.GetBytes("""{"name":"Ada"}"""),
        IdempotencyKey = key,
        EnqueuedAt = h.Clock.GetUtcNow(),
        NextAttemptAt = h.Clock.GetUtcNow(),
    };

    private static async Task<long> DeadLetterAsync(IntegrationHarness h, IDeferredWriteStore store, string uri = "/contacts", string key = "order-42")
    {
        long id = await store.EnqueueAsync(Write(h, uri, key), Ct);
        await store.DeadLetterAsync(id, "Rejected (HTTP 422)", Ct);
        return id;
    }

    private static async Task NextReplayAsync(IntegrationHarness h, TimeSpan by)
    {
        await Eventually.WaitUntilAsync(() => h.Clock.HasTimerDueAt(h.Clock.GetUtcNow() + Interval));
        h.Clock.Advance(by);
    }

    [Fact]
    public async Task ListAsync_DeadLetterWithSecretInAddress_RedactedWithAge()
    {
        var (h, store) = Create();
        await using var _ = h;
        long id = await DeadLetterAsync(h, store, uri: "/contacts?api_key=sk-live-SECRET&list=7");
        h.Clock.Advance(TimeSpan.FromHours(6));

        var entry = Assert.Single(await Admin(h).ListAsync("crm", DeferredWriteState.DeadLettered, cancellationToken: Ct));

        Assert.Equal((id, "POST", "Rejected (HTTP 422)", TimeSpan.FromHours(6)), (entry.Id, entry.Method, entry.Reason, entry.Age));
        Assert.DoesNotContain("SECRET", entry.Address, StringComparison.Ordinal);
        Assert.Contains("list=7", entry.Address, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(10_001)]
    public async Task ListAsync_MaxOutOfRange_Throws(int max)
    {
        var (h, _) = Create();
        await using var __ = h;

        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => Admin(h).ListAsync("crm", DeferredWriteState.Queued, max, cancellationToken: Ct));
    }

    [Fact]
    public async Task RequeueAsync_DeadLetter_ReplayedAgainWithTheSameKeyAndLogged()
    {
        var (h, store) = Create();
        await using var _ = h;
        long dead = await DeadLetterAsync(h, store);
        h.Server.Given(Request.Create().WithPath("/contacts").UsingPost()).RespondWith(Response.Create().WithStatusCode(201));
        await h.StartHostedServicesAsync();

        long? queued = await Admin(h).RequeueAsync("crm", dead, Ct);
        await NextReplayAsync(h, Interval);
        await Eventually.WaitUntilAsync(() => store.GetStatsAsync("crm", Ct).AsTask().Result.Depth == 0);

        Assert.NotNull(queued);
        var delivered = Assert.Single(h.Server.LogEntries).RequestMessage!;
        Assert.Equal("order-42", delivered.Headers!["Idempotency-Key"].Single());
        Assert.Empty(await Admin(h).ListAsync("crm", DeferredWriteState.DeadLettered, cancellationToken: Ct));
        Assert.Contains(h.Logs.GetSnapshot(), l => l.Id.Id == 43 && l.Message.Contains($"dead letter {dead} requeued as deferred write {queued}", StringComparison.Ordinal));
        Assert.Null(await Admin(h).RequeueAsync("crm", dead, Ct));
    }

    [Fact]
    public async Task DiscardAsync_DeadLetter_RecordKeptWarningLoggedReasonRedacted()
    {
        var (h, store) = Create();
        await using var _ = h;
        long dead = await DeadLetterAsync(h, store);

        Assert.True(await Admin(h).DiscardAsync("crm", dead, "sent by hand with Bearer sk-live-SECRET", Ct));

        var record = Assert.Single(await Admin(h).ListAsync("crm", DeferredWriteState.Discarded, cancellationToken: Ct));
        Assert.Equal(h.Clock.GetUtcNow(), record.DiscardedAt);
        Assert.DoesNotContain("SECRET", record.Reason, StringComparison.Ordinal);
        var log = Assert.Single(h.Logs.GetSnapshot(), l => l.Id.Id == 44);
        Assert.Equal(LogLevel.Warning, log.Level);
        Assert.DoesNotContain("SECRET", log.Message, StringComparison.Ordinal);
        Assert.False(await Admin(h).DiscardAsync("crm", dead, "again", Ct));
    }

    [Fact]
    public async Task ListAsync_NoStoreRegistered_SaysHowToAddOne()
    {
        await using var h = IntegrationHarness.Create();

        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => h.Provider.GetRequiredService<IDeferredWriteAdmin>().ListAsync("crm", DeferredWriteState.DeadLettered, cancellationToken: Ct));

        Assert.Contains("AddSqliteDeferredWriteStore", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Replay_DeadLetterOlderThanWarningAge_OneWarningPerOldestDeadLetter()
    {
        var (h, store) = Create(o => o.Deferral.DeadLetterWarningAge = TimeSpan.FromHours(1));
        await using var _ = h;
        long oldest = await DeadLetterAsync(h, store, key: "first");
        await h.StartHostedServicesAsync();

        await NextReplayAsync(h, Interval);                                    // 30 s old: no reminder yet
        await NextReplayAsync(h, TimeSpan.FromHours(1));                       // past the age
        await h.Alerts.WaitForAsync(a => a.Topic == "dead-letters");
        await DeadLetterAsync(h, store, key: "second");
        for (int i = 0; i < 3; i++)
        {
            await NextReplayAsync(h, TimeSpan.FromHours(1));                   // still the same oldest: no repeat
        }

        await Eventually.WaitUntilAsync(() => h.Clock.HasTimerDueAt(h.Clock.GetUtcNow() + Interval));
        Assert.Single(await h.SettledAlertsAsync(), a => a.Topic == "dead-letters");

        await Admin(h).DiscardAsync("crm", oldest, "handled", Ct);          // the next oldest is old too: one more
        await NextReplayAsync(h, Interval);
        await h.Alerts.WaitForAsync(a => a.Topic == "dead-letters" && a.Message.StartsWith("1 dead-lettered", StringComparison.Ordinal));

        var reminders = (await h.SettledAlertsAsync()).Where(a => a.Topic == "dead-letters").ToList();
        Assert.Equal(2, reminders.Count);
        Assert.All(reminders, a => Assert.Equal(AlertSeverity.Warning, a.Severity));
        Assert.Contains("IDeferredWriteAdmin", reminders[0].Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Replay_TwoInstancesSharingAlertClaims_OneDeadLetterReminderBetweenThem()
    {
        var redis = await RedisServer.RequireAsync();
        string prefix = redis.NewPrefix();
        var pager = new SharedPager();
        void Shared(IServiceCollection s) => s.AddResilientIntegrationsRedis(o =>
        {
            o.Configuration = redis.Configuration;
            o.KeyPrefix = prefix;
            o.Timeout = TimeSpan.FromSeconds(5);
        });
        var instances = new[] { Create(o => o.Deferral.DeadLetterWarningAge = TimeSpan.FromHours(1), Shared, pager), Create(o => o.Deferral.DeadLetterWarningAge = TimeSpan.FromHours(1), Shared, pager) };
        try
        {
            foreach (var (h, store) in instances)
            {
                await DeadLetterAsync(h, store);
                await h.StartHostedServicesAsync();
                await NextReplayAsync(h, TimeSpan.FromHours(1));
                await Eventually.WaitUntilAsync(() => h.Logs.GetSnapshot().Any(l => l.Message.Contains("dead-lettered write(s) wait", StringComparison.Ordinal))); // each instance's log says so...
            }

            foreach (var (h, _) in instances)
            {
                await h.SettledAlertsAsync();
            }

            Assert.Single(pager.Alerts, a => a.Topic == "dead-letters"); // ...and the pager they share heard it once
        }
        finally
        {
            foreach (var (h, _) in instances)
            {
                await h.DisposeAsync();
            }
        }
    }
}
