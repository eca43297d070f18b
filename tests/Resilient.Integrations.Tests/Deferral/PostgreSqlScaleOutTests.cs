using System.Collections.Concurrent;
using System.Net;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;
using Resilient.Integrations.Deferral;
using Resilient.Integrations.PostgreSql;
using Resilient.Integrations.Tests.Support;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;

namespace Resilient.Integrations.Tests.Deferral;

/// <summary>
/// Several instances on one PostgreSQL queue, as pods run: one replays at a time and keeps the order, another takes over
/// when it stops or is killed, and nothing acknowledged is lost. Replay runs on real time (1 s turns): the lease expires
/// on the database's clock, which no test clock moves.
/// </summary>
[Collection(nameof(PostgreSqlScaleOutTests))]
public sealed partial class PostgreSqlScaleOutTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Replay_ThreeInstancesOneQueueHoldersStopInTurn_NoneLostNoneAtOnceOrderKept()
    {
        const int Writes = 1_000;
        string database = await (await PostgreSqlServer.RequireAsync()).CreateDatabaseAsync();
        using var server = LoopbackServer.Start();
        var upstream = new Upstream(server);
        await EnqueueAsync(database, Writes);

        var instances = new Dictionary<string, ServiceProvider>();
        try
        {
            foreach (var name in new[] { "a", "b", "c" })
            {
                instances[name] = Instance(name, database, server.Url!);
                await StartAsync(instances[name]);
            }

            // Scale in twice while replay runs: whichever instance holds the queue stops, and another must take it over.
            var stopped = new List<string>();
            foreach (int after in new[] { Writes / 3, 2 * Writes / 3 })
            {
                await Eventually.WaitUntilAsync(() => upstream.Delivered >= after);
                string holder = upstream.LastInstance;
                await StopAsync(instances[holder]);
                instances.Remove(holder);
                stopped.Add(holder);
            }

            await Eventually.WaitUntilAsync(() => upstream.Keys.Distinct().Count() == Writes && QueueDepth(database) == 0);
            var deliveries = upstream.Deliveries.ToList();

            Assert.Equal(Enumerable.Range(0, Writes).Select(Key).Order(), deliveries.Select(d => d.Key).Distinct().Order()); // 0 lost
            Assert.Equal(1, upstream.MostAtOnce); // never two instances (or two deliveries) at once
            var firsts = deliveries.Select(d => d.N).Distinct().ToList();
            int broken = firsts.Zip(firsts.Skip(1)).ToList().FindIndex(p => p.Second < p.First);
            Assert.True(broken < 0, $"order broken after delivery {broken} (stopped {string.Join(", ", stopped)}), dead letters {DeadLetters(database)}: " +
                string.Join(" ", deliveries.Skip(Math.Max(0, broken - 5)).Take(12).Select(d => $"{d.Instance}:{d.N}"))); // order kept, across the handovers
            Assert.Equal(0, DeadLetters(database));
            Assert.Equal(3, deliveries.Select(d => d.Instance).Distinct().Count()); // all three took a turn
            Assert.InRange(deliveries.Count - Writes, 0, stopped.Count); // at most the one in flight per scale-in is repeated
            Assert.All(deliveries, d => Assert.Equal(Key(d.N), d.Key)); // a repeat carries its write's key
        }
        finally
        {
            foreach (var instance in instances.Values)
            {
                await StopAsync(instance);
            }
        }
    }

    [Fact]
    public async Task Replay_HolderKilledWithSigkill_AnotherTakesOverAfterTheLeaseAndFinishes()
    {
        const int Writes = 200;
        string database = await (await PostgreSqlServer.RequireAsync()).CreateDatabaseAsync();
        using var server = LoopbackServer.Start();

        // Fifty deliveries are answered; the next is held until the process is gone, so it dies in the middle of a delivery.
        var held = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var upstream = new Upstream(server, holdAfter: 50, held.Task);
        await EnqueueAsync(database, Writes);

        using (var helper = CrashHelperProcess.Start("postgres-replay", database, server.Url!, "0"))
        {
            await CrashHelperProcess.WaitForAsync(() => upstream.Received > 50, helper);
            helper.Kill(entireProcessTree: true); // SIGKILL: no lease given up, no clean-up
            await helper.WaitForExitAsync(Ct);
        }

        held.SetResult();
        int beforeCrash = upstream.Delivered;
        Assert.InRange(beforeCrash, 50, Writes - 1);

        var survivor = Instance("survivor", database, server.Url!);
        await StartAsync(survivor);
        await Eventually.WaitUntilAsync(() => QueueDepth(database) == 0);
        await StopAsync(survivor);

        var deliveries = upstream.Deliveries.ToList();
        Assert.Equal(Enumerable.Range(0, Writes).Select(Key).Order(), deliveries.Select(d => d.Key).Distinct().Order()); // 0 lost
        var repeated = deliveries.GroupBy(d => d.Key).Where(g => g.Count() > 1).ToList();
        Assert.InRange(repeated.Count, 0, 1); // at most the replay concurrency: the one delivery cut off by the kill
        Assert.All(deliveries, d => Assert.Equal(Key(d.N), d.Key));
        Assert.All(deliveries.Skip(beforeCrash), d => Assert.Equal("survivor", d.Instance));
        var (token, holder) = Lease(database);
        Assert.True(token >= 2, $"the lease was not taken over (token {token})");
        Assert.Contains($"/{Environment.ProcessId}/", holder, StringComparison.Ordinal);
    }

    private static string Key(int n) => $"item-{n}";

    private static async Task EnqueueAsync(string database, int count)
    {
        await using var store = new PostgreSqlDeferredWriteStore(new PostgreSqlDeferredWriteStoreOptions { ConnectionString = database }, null);
        var now = DateTimeOffset.UtcNow;
        for (int i = 0; i < count; i++)
        {
            await store.EnqueueAsync(
                new DeferredWrite
                {
                    Integration = "crm",
                    Method = "POST",
                    Uri = new Uri("/items", UriKind.Relative),
                    Headers = [new("Content-Type", "application/json")],
                    Body = System.Text.Encoding.UTF8.GetBytes($$"""{"n":{{i}}}"""),
                    IdempotencyKey = Key(i),
                    EnqueuedAt = now,
                    NextAttemptAt = now,
                },
                Ct);
        }
    }

    private static ServiceProvider Instance(string name, string database, string url)
    {
        var services = new ServiceCollection();
        services.AddPostgreSqlDeferredWriteStore(o => o.ConnectionString = database);
        services.AddResilientIntegration("crm", o =>
        {
            o.BaseAddress = new Uri(url);
            o.Deferral.ReplayInterval = TimeSpan.FromSeconds(1);
            o.Deferral.RetryDelay = TimeSpan.FromSeconds(1);
        });
        services.AddHttpClient("crm").ConfigureHttpClient(c => c.DefaultRequestHeaders.Add("X-Instance", name));
        return services.BuildServiceProvider();
    }

    private static async Task StartAsync(ServiceProvider instance)
    {
        foreach (var service in instance.GetServices<IHostedService>())
        {
            await service.StartAsync(Ct);
        }
    }

    /// <summary>Stops replay as a host shutting down does (the lease is given up), then disposes.</summary>
    private static async Task StopAsync(ServiceProvider instance)
    {
        foreach (var service in instance.GetServices<IHostedService>().Reverse())
        {
            await service.StopAsync(CancellationToken.None);
        }

        await instance.DisposeAsync();
    }

    private static long QueueDepth(string database)
    {
        using var connection = new NpgsqlConnection(database);
        connection.Open();
        using var command = new NpgsqlCommand("SELECT COUNT(*) FROM resilient_integrations.deferred_writes;", connection);
        return (long)command.ExecuteScalar()!;
    }

    private static long DeadLetters(string database)
    {
        using var connection = new NpgsqlConnection(database);
        connection.Open();
        using var command = new NpgsqlCommand("SELECT COUNT(*) FROM resilient_integrations.dead_letters;", connection);
        return (long)command.ExecuteScalar()!;
    }

    private static (long Token, string Holder) Lease(string database)
    {
        using var connection = new NpgsqlConnection(database);
        connection.Open();
        using var command = new NpgsqlCommand("SELECT token, holder FROM resilient_integrations.replay_leases WHERE integration = 'crm';", connection);
        using var reader = command.ExecuteReader();
        Assert.True(reader.Read());
        return (reader.GetInt64(0), reader.GetString(1));
    }

    [GeneratedRegex(@"""n"":(\d+)")]
    private static partial Regex ItemNumber();

    /// <summary>The service the writes go to: records each delivery (who sent it, which key, which item) and how many ran at once.</summary>
    private sealed class Upstream
    {
        private readonly ConcurrentQueue<(string Instance, string Key, int N)> _deliveries = new();
        private int _inFlight;
        private int _mostAtOnce;
        private int _received;

        public Upstream(WireMockServer server, int holdAfter = int.MaxValue, Task? release = null) =>
            server.Given(Request.Create().WithPath("/items").UsingPost()).RespondWith(Response.Create().WithCallback(async request =>
            {
                int now = Interlocked.Increment(ref _inFlight);
                InterlockedMax(ref _mostAtOnce, now);
                try
                {
                    string instance = request.Headers!.TryGetValue("X-Instance", out var i) ? i.Single() : "helper";
                    int n = int.Parse(ItemNumber().Match(request.Body!).Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
                    // Recorded on arrival: a delivery the sender never saw answered still reached the service.
                    _deliveries.Enqueue((instance, request.Headers!["Idempotency-Key"].Single(), n));
                    if (Interlocked.Increment(ref _received) > holdAfter)
                    {
                        await release!;
                    }

                    await Task.Delay(1);
                    return (WireMock.IResponseMessage)new WireMock.ResponseMessage { StatusCode = (int)HttpStatusCode.OK };
                }
                finally
                {
                    Interlocked.Decrement(ref _inFlight);
                }
            }));

        public int Received => Volatile.Read(ref _received);

        public int Delivered => _deliveries.Count;

        public int MostAtOnce => Volatile.Read(ref _mostAtOnce);

        public string LastInstance => _deliveries.Last().Instance;

        public IEnumerable<string> Keys => _deliveries.Select(d => d.Key);

        public IEnumerable<(string Instance, string Key, int N)> Deliveries => _deliveries;

        private static void InterlockedMax(ref int target, int value)
        {
            int seen;
            while (value > (seen = Volatile.Read(ref target)) && Interlocked.CompareExchange(ref target, value, seen) != seen)
            {
            }
        }
    }
}
