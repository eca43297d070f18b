using System.Net;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Resilient.Integrations.Classification;
using Resilient.Integrations.Deferral;
using Resilient.Integrations.PostgreSql;
using Resilient.Integrations.Tests.Support;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;

namespace Resilient.Integrations.Tests.Deferral;

/// <summary>The database itself goes away: a write that cannot be stored is never answered 202, and replay outlives the outage.</summary>
public sealed class PostgreSqlOutageTests
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(30);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static IntegrationHarness Create(string database) => IntegrationHarness.Create(
        o =>
        {
            o.Deferral.DeferWrites = true;
            o.Unavailable.MaxRetries = 0;
        },
        services: s => s.AddPostgreSqlDeferredWriteStore(o => o.ConnectionString = database));

    [Fact]
    public async Task Send_DatabaseDownWhenQueueing_TypedFailureNot202AndCounted()
    {
        await using var postgres = await PostgreSqlServer.StartPrivateAsync();
        string database = await postgres.CreateDatabaseAsync();
        await using var h = Create(database);
        await h.Provider.GetRequiredService<PostgreSqlDeferredWriteStore>().InitializeAsync(Ct);
        h.Server.Given(Request.Create().WithPath("/contacts").UsingPost()).RespondWith(Response.Create().WithStatusCode(503));
        using var failures = h.Metric("resilient_integrations.deferral.store_failures");
        await postgres.StopAsync();

        var request = new HttpRequestMessage(HttpMethod.Post, "/contacts") { Content = new StringContent("""{"name":"Ada"}""", Encoding.UTF8, "application/json") };
        var ex = await Assert.ThrowsAsync<IntegrationFailureException>(() => h.Clock.RunAsync(h.Client.SendAsync(request, Ct)));

        Assert.Equal(FailureKind.Unavailable, ex.Kind);
        Assert.Contains("could not be queued", ex.Classification.Reason, StringComparison.Ordinal);
        Assert.IsAssignableFrom<Npgsql.NpgsqlException>(ex.InnerException);
        Assert.Equal(1, h.UpstreamAttempts("/contacts"));
        Assert.Equal("enqueue", Assert.Single(failures.GetMeasurementSnapshot()).Tags["operation"]);
        Assert.Contains(h.Logs.GetSnapshot(), l => l.Id.Id == 45);
    }

    [Fact]
    public async Task Replay_DatabaseGoneAndBack_LoggedCountedAndEveryWriteDelivered()
    {
        await using var postgres = await PostgreSqlServer.StartPrivateAsync();
        string database = await postgres.CreateDatabaseAsync();
        await using var h = Create(database);
        var store = h.Provider.GetRequiredService<IDeferredWriteStore>();
        for (int i = 0; i < 3; i++)
        {
            await store.EnqueueAsync(
                new DeferredWrite
                {
                    Integration = "crm", Method = "POST", Uri = new Uri("/contacts", UriKind.Relative), Body = Encoding.UTF8.GetBytes($$"""{"n":{{i}}}"""),
                    IdempotencyKey = $"key-{i}", EnqueuedAt = h.Clock.GetUtcNow(), NextAttemptAt = h.Clock.GetUtcNow(),
                },
                Ct);
        }

        h.Server.Given(Request.Create().WithPath("/contacts").UsingPost()).RespondWith(Response.Create().WithStatusCode(201));
        using var failures = h.Metric("resilient_integrations.deferral.store_failures");
        await postgres.StopAsync();
        await h.StartHostedServicesAsync();

        await NextReplayAsync(h);
        await Eventually.WaitUntilAsync(() => h.Logs.GetSnapshot().Any(l => l.Id.Id == 16));
        await NextReplayAsync(h);                                      // still down: tried again, not given up
        await Eventually.WaitUntilAsync(() => h.Logs.GetSnapshot().Count(l => l.Id.Id == 16) >= 2);
        await postgres.StartAsync();
        var elapsed = System.Diagnostics.Stopwatch.StartNew();
        while (h.Server.LogEntries.Count() < 3)
        {
            Assert.True(elapsed.Elapsed < Eventually.Deadline, "replay did not resume after the database came back");
            await NextReplayAsync(h);
            await Task.Delay(20, Ct);
        }

        Assert.Equal(["key-0", "key-1", "key-2"], h.Server.LogEntries.Select(e => e.RequestMessage!.Headers!["Idempotency-Key"].Single()));
        Assert.All(failures.GetMeasurementSnapshot(), m => Assert.Equal("replay", m.Tags["operation"]));
        Assert.True(failures.GetMeasurementSnapshot().Count >= 2);
        await Eventually.WaitUntilAsync(() => store.GetStatsAsync("crm", Ct).AsTask().Result.Depth == 0);
    }

    private static async Task NextReplayAsync(IntegrationHarness h)
    {
        await Eventually.WaitUntilAsync(() => h.Clock.HasTimerDueAt(h.Clock.GetUtcNow() + Interval));
        h.Clock.Advance(Interval);
    }
}
