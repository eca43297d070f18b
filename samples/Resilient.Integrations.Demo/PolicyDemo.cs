using System.Diagnostics;
using System.Net.Http.Json;
using System.Net.Http.Headers;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Resilient.Integrations;
using Resilient.Integrations.Alerts;
using Resilient.Integrations.Batch;
using Resilient.Integrations.Deferral;
using Resilient.Integrations.Health;
using Resilient.Integrations.Fallback;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;
using WireMock.Settings;

/// <summary>Part 2: a simulated CRM behind <c>AddResilientIntegration</c>, failing one way after another.</summary>
internal static class PolicyDemo
{
    public static async Task RunAsync()
    {
        Console.WriteLine("== Part 2: per-kind policies on a simulated CRM (services.AddResilientIntegration(\"crm\"))");
        using var crm = WireMockServer.Start(new WireMockServerSettings { Urls = ["http://127.0.0.1:0"] });
        var clock = new DemoClock();
        string queueFolder = Path.Combine(Path.GetTempPath(), "resilient-demo-" + Guid.NewGuid().ToString("N"));
        var services = new ServiceCollection();
        services.AddSingleton<TimeProvider>(clock);
        services.AddSqliteDeferredWriteStore(o => o.Path = Path.Combine(queueFolder, "deferred-writes.db"));
        services.AddResilientIntegration("crm", o =>
            {
                o.BaseAddress = new Uri(crm.Url!);
                o.Unavailable.BaseDelay = TimeSpan.FromMilliseconds(100);
                o.CircuitBreaker.MinimumThroughput = 4;
                o.CircuitBreaker.BreakDuration = TimeSpan.FromSeconds(1);
                o.Deferral.DeferWrites = true;
                o.Deferral.ReplayInterval = TimeSpan.FromSeconds(1);
            })
            .AddAlertSink(new ConsoleAlertSink());
        await using var provider = services.BuildServiceProvider();
        var http = provider.GetRequiredService<IHttpClientFactory>().CreateClient("crm");
        var health = provider.GetRequiredService<IIntegrationHealthMonitor>();
        var store = provider.GetRequiredService<IDeferredWriteStore>();
        foreach (var hosted in provider.GetServices<IHostedService>())
        {
            await hosted.StartAsync(CancellationToken.None); // the replay of deferred writes
        }

        await Phase("healthy", crm, Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json").WithBody("""[{"id":1,"name":"Ada"}]"""), http);
        await Phase("rate limited (429, retry-after-ms: 300)", crm, Response.Create().WithStatusCode(429).WithHeader("retry-after-ms", "300"), http, recoverAfterFirst: true);
        clock.Offset += TimeSpan.FromHours(6);
        Console.WriteLine("   ... 6 hours later ...");
        await Phase("token expired (401)", crm, Response.Create().WithStatusCode(401).WithHeader("Content-Type", "application/json").WithBody("""{"error":{"code":"invalid_token"}}"""), http);
        await Phase("down (503): retried, then the circuit opens", crm, Response.Create().WithStatusCode(503), http);
        await Phase("still down: circuit open, the CRM is spared", crm, Response.Create().WithStatusCode(503), http);
        Console.WriteLine($"   health: {health.Get("crm").State}");

        using (var lead = new HttpRequestMessage(HttpMethod.Post, "/contacts") { Content = new StringContent("""{"name":"Grace Hopper"}""", Encoding.UTF8, "application/json") })
        {
            using var queued = await http.SendAsync(lead);
            var deferral = queued.GetDeferral();
            Console.WriteLine($"{"write while down: POST /contacts",-48} -> {(int)queued.StatusCode} {deferral?.Notice} (write #{deferral?.Id}, Idempotency-Key {deferral?.IdempotencyKey[..8]}…, on disk in SQLite)");
        }

        await Task.Delay(TimeSpan.FromSeconds(1.1));
        await Phase("recovered (after the break)", crm, Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json").WithBody("[]"), http);
        crm.Given(Request.Create().WithPath("/contacts").UsingPost()).RespondWith(Response.Create().WithStatusCode(201));
        for (int i = 0; i < 50 && (await store.GetStatsAsync("crm", CancellationToken.None)).Depth > 0; i++)
        {
            await Task.Delay(100);
        }

        var replayed = crm.LogEntries.Where(e => e.RequestMessage?.Method == "POST").ToList();
        Console.WriteLine($"   replayed the queued write: the CRM received {replayed.Count} POST with Idempotency-Key {replayed.FirstOrDefault()?.RequestMessage?.Headers?["Idempotency-Key"].FirstOrDefault()?[..8]}…; queue now {(await store.GetStatsAsync("crm", CancellationToken.None)).Depth}");
        Console.WriteLine($"   health: {health.Get("crm").State}");

        Console.WriteLine();
        Console.WriteLine("-- batch: sync 4 contacts, one comes back as an HTML page, one is gone");
        crm.Reset();
        foreach (var (id, status, type, body) in new[] { (1, 200, "application/json", """{"name":"Ada"}"""), (2, 200, "text/html", "<html>maintenance</html>"), (3, 404, "application/json", "{}"), (4, 200, "application/json", """{"name":"Grace"}""") })
        {
            crm.Given(Request.Create().WithPath($"/contacts/{id}").UsingGet()).RespondWith(Response.Create().WithStatusCode(status).WithHeader("Content-Type", type).WithBody(body));
        }

        var report = await IntegrationBatch.RunAsync(
            [1, 2, 3, 4],
            async (id, ct) => (await http.GetFromJsonAsync<Contact>($"/contacts/{id}", ct))!.Name);
        Console.WriteLine($"   {report}");
        foreach (var skipped in report.Skipped)
        {
            Console.WriteLine($"   skipped contact {skipped.Item}: {skipped.Failure}");
        }

        await Task.Delay(200);
        foreach (var hosted in provider.GetServices<IHostedService>())
        {
            await hosted.StopAsync(CancellationToken.None);
        }

        await provider.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(queueFolder, recursive: true);
    }

    private static async Task Phase(string name, WireMockServer crm, IResponseBuilder response, HttpClient http, bool recoverAfterFirst = false)
    {
        crm.Reset();
        if (recoverAfterFirst)
        {
            crm.Given(Request.Create().WithPath("/contacts").UsingGet()).InScenario("p").WillSetStateTo("ok").RespondWith(response);
            crm.Given(Request.Create().WithPath("/contacts").UsingGet()).InScenario("p").WhenStateIs("ok")
                .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json").WithBody("[]"));
        }
        else
        {
            crm.Given(Request.Create().WithPath("/contacts").UsingGet()).RespondWith(response);
        }

        var watch = Stopwatch.StartNew();
        string outcome;
        try
        {
            using var answer = await http.GetAsync("/contacts");
            outcome = answer.GetDegradation() is { } stale
                ? $"{(int)answer.StatusCode} from the last good copy ({stale.Kind}): \"{stale.NoticeFor("Report generated with data")}\""
                : $"{(int)answer.StatusCode} live";
        }
        catch (IntegrationFailureException ex)
        {
            outcome = ex.Classification.ToString();
        }

        Console.WriteLine($"{name,-48} upstream attempts: {crm.LogEntries.Count()}, {watch.ElapsedMilliseconds,4} ms -> {outcome}");
        await Task.Delay(100); // let the background alert dispatcher print
    }

    private sealed record Contact(string Name);

    /// <summary>The system clock, moved forward on demand so the demo can show "6 hours ago" without waiting 6 hours.</summary>
    private sealed class DemoClock : TimeProvider
    {
        public TimeSpan Offset { get; set; }

        public override DateTimeOffset GetUtcNow() => base.GetUtcNow() + Offset;
    }

    private sealed class ConsoleAlertSink : IAlertSink
    {
        public ValueTask SendAsync(Alert alert, CancellationToken cancellationToken)
        {
            Console.WriteLine($"   ALERT {alert}");
            return ValueTask.CompletedTask;
        }
    }
}
