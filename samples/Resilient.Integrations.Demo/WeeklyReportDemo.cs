using System.ClientModel;
using System.ClientModel.Primitives;
using System.Diagnostics;
using System.Net.Http.Json;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OpenAI;
using OpenAI.Chat;
using Resilient.Integrations;
using Resilient.Integrations.Alerts;
using Resilient.Integrations.Batch;
using Resilient.Integrations.Deferral;
using Resilient.Integrations.Fallback;
using Resilient.Integrations.Health;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;
using WireMock.Settings;

/// <summary>
/// The main job: an "AI weekly report" generator. It reads the sales pipeline from a CRM, asks an AI provider
/// (OpenAI-compatible, through the official OpenAI SDK) to summarise it and files the report back to the CRM.
/// Both run on loopback and fail one way after another; the timeline shows what the library does about each.
/// </summary>
internal static class WeeklyReportDemo
{
    private const string Deals = """{"deals":[{"id":1,"name":"Acme renewal","stage":"won","amount":120000},{"id":2,"name":"Globex expansion","stage":"negotiation","amount":80000},{"id":3,"name":"Initech pilot","stage":"qualified","amount":40000}]}""";
    private const string Summary = "Pipeline $240k across 3 deals; Acme renewal won, Globex in negotiation.";

    public static async Task RunAsync()
    {
        using var ai = WireMockServer.Start(new WireMockServerSettings { Urls = ["http://127.0.0.1:0"] });
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
                o.CircuitBreaker.MinimumThroughput = 3;
                o.CircuitBreaker.BreakDuration = TimeSpan.FromSeconds(1);
                o.Deferral.ReplayInterval = TimeSpan.FromSeconds(1);
            })
            .AddAlertSink(new ConsoleAlertSink());
        services.AddResilientIntegration("ai", o => o.RateLimit.BaseDelay = TimeSpan.FromMilliseconds(100))
            .ForOpenAI(o =>
            {
                o.Endpoint = new Uri(ai.Url!);
                o.HealthProbe = false; // health follows live calls here; in production the profile probes GET v1/models
            });
        await using var provider = services.BuildServiceProvider();
        foreach (var hosted in provider.GetServices<IHostedService>())
        {
            await hosted.StartAsync(CancellationToken.None); // the replay of deferred writes
        }

        var run = new ReportRun(provider, ai, crm);
        Console.WriteLine($"Simulated AI provider (OpenAI API) on {ai.Url}, simulated CRM on {crm.Url}");
        Console.WriteLine("Each report: GET /deals from the CRM -> chat completion through the OpenAI SDK -> POST /reports to the CRM.");

        void Phase(int number, string title, string? later = null, TimeSpan skip = default)
        {
            if (later is not null)
            {
                clock.Offset += skip;
                Console.WriteLine();
                Console.WriteLine($"   ... {later} ...");
            }

            Console.WriteLine();
            Console.WriteLine($"[{number}] {title}");
            Healthy(ai, crm);
        }

        Phase(1, "healthy");
        await run.GenerateAsync();

        Phase(2, "rate limited: the AI provider answers 429 with retry-after-ms: 400, then recovers");
        ChatCompletions(ai).InScenario("rl").WillSetStateTo("served")
            .RespondWith(Json(429, """{"error":{"message":"Rate limit reached for gpt-4o-mini","type":"requests","code":"rate_limit_exceeded"}}""").WithHeader("retry-after-ms", "400"));
        await run.GenerateAsync();

        Phase(3, "token expired: the AI provider answers 401 invalid_api_key", "6 hours later", TimeSpan.FromHours(6));
        ChatCompletions(ai).RespondWith(Json(401, """{"error":{"message":"Incorrect API key provided: sk-demo****.","type":"invalid_request_error","code":"invalid_api_key"}}"""));
        await run.GenerateAsync();

        Phase(4, "down: the CRM answers 503 to everything", "2 hours later, the key is rotated", TimeSpan.FromHours(2));
        crm.Given(Request.Create().UsingAnyMethod()).AtPriority(1).RespondWith(Json(503, """{"error":"service unavailable"}"""));
        await run.GenerateAsync();
        Console.WriteLine("   a second run a moment later:");
        await run.GenerateAsync();

        await Task.Delay(TimeSpan.FromSeconds(1.1)); // the circuit's break passes
        Phase(5, "malformed data: the CRM's /deals is truncated JSON, one deal's details are an HTML page");
        crm.Given(Request.Create().WithPath("/deals").UsingGet()).AtPriority(1).RespondWith(Json(200, """{"deals":[{"id":1,"name":"Acme renewal","amo"""));
        crm.Given(Request.Create().WithPath("/deals/2").UsingGet()).AtPriority(1).RespondWith(
            Response.Create().WithStatusCode(200).WithHeader("Content-Type", "text/html").WithBody("<html><body>Scheduled maintenance</body></html>"));
        await run.GenerateAsync(details: true);

        Phase(6, "recovered");
        await run.WaitForReplayAsync();
        await run.GenerateAsync(details: true);

        Console.WriteLine();
        Console.WriteLine($"Done: 7 reports, {run.Attempts} upstream requests in all. Every failure had a kind and its own policy; no report went out without saying how fresh its data was.");

        foreach (var hosted in provider.GetServices<IHostedService>())
        {
            await hosted.StopAsync(CancellationToken.None);
        }

        await provider.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(queueFolder, recursive: true);
    }

    /// <summary>The chat completions endpoint, above the healthy answer: for a fault of the AI provider.</summary>
    private static IRespondWithAProvider ChatCompletions(WireMockServer ai) =>
        ai.Given(Request.Create().WithPath("/v1/chat/completions").UsingPost()).AtPriority(1);

    private static IResponseBuilder Json(int status, string body) =>
        Response.Create().WithStatusCode(status).WithHeader("Content-Type", "application/json").WithBody(body);

    private static void Healthy(WireMockServer ai, WireMockServer crm)
    {
        // Mappings and scenarios only: the request log stays, it is where the replayed reports are read from.
        foreach (var server in new[] { ai, crm })
        {
            server.ResetMappings();
            server.ResetScenarios();
        }

        ai.Given(Request.Create().WithPath("/v1/chat/completions").UsingPost()).AtPriority(10).RespondWith(Json(200,
            $$$"""{"id":"chatcmpl-1","object":"chat.completion","created":1764050000,"model":"gpt-4o-mini","choices":[{"index":0,"message":{"role":"assistant","content":"{{{Summary}}}"},"finish_reason":"stop"}],"usage":{"prompt_tokens":120,"completion_tokens":20,"total_tokens":140}}"""));
        crm.Given(Request.Create().WithPath("/deals").UsingGet()).AtPriority(10).RespondWith(Json(200, Deals));
        foreach (var id in new[] { 1, 2, 3 })
        {
            crm.Given(Request.Create().WithPath($"/deals/{id}").UsingGet()).AtPriority(10).RespondWith(Json(200, $$"""{"id":{{id}},"owner":"rep-{{id}}"}"""));
        }

        crm.Given(Request.Create().WithPath("/reports").UsingPost()).AtPriority(10).RespondWith(Json(201, """{"id":"rpt-1"}"""));
    }

    /// <summary>One report run: the three calls, each with its attempts, time and outcome, then the report line.</summary>
    private sealed class ReportRun(IServiceProvider provider, WireMockServer ai, WireMockServer crm)
    {
        private readonly HttpClient _crm = provider.GetRequiredService<IHttpClientFactory>().CreateClient("crm");
        private readonly IResilientIntegration _ai = provider.GetRequiredKeyedService<IResilientIntegration>("ai");
        private readonly IIntegrationHealthMonitor _health = provider.GetRequiredService<IIntegrationHealthMonitor>();
        private readonly IDeferredWriteStore _queue = provider.GetRequiredService<IDeferredWriteStore>();
        private readonly IAlertDispatcher _alerts = provider.GetRequiredService<IAlertDispatcher>();
        private readonly List<string> _queued = [];

        /// <summary>Keys of the queued reports the CRM has accepted, in the order it accepted them.</summary>
        private List<string> Replayed() =>
            [.. crm.LogEntries
                .Where(e => e.RequestMessage?.Path == "/reports" && e.ResponseMessage?.StatusCode is 201 && e.RequestMessage.Headers?.ContainsKey("Idempotency-Key") == true)
                .Select(e => e.RequestMessage!.Headers!["Idempotency-Key"].First())
                .Where(_queued.Contains)
                .Distinct()];

        // The official SDK on the integration's HttpClient, its own retries off: exactly one retry layer acts.
        private readonly ChatClient _chat = new("gpt-4o-mini", new ApiKeyCredential("sk-demo-not-a-real-key"), new OpenAIClientOptions
        {
            Endpoint = new Uri(ai.Url + "/v1"),
            Transport = new HttpClientPipelineTransport(provider.GetRequiredService<IHttpClientFactory>().CreateClient("ai")),
            RetryPolicy = new ClientRetryPolicy(maxRetries: 0),
        });

        public async Task GenerateAsync(bool details = false)
        {
            Degradation? stale = null;
            string dealsJson = Deals;
            await Step(crm, "crm GET /deals", async () =>
            {
                using var answer = await _crm.GetAsync("/deals");
                dealsJson = await answer.Content.ReadAsStringAsync();
                var copy = answer.GetDegradation();
                stale ??= copy;
                return copy is { } d ? $"last good copy ({d.Kind}; data as of {d.HumanAge})" : "live";
            });

            if (details)
            {
                await Step(crm, "crm GET /deals/{id} x3", async () =>
                {
                    var batch = await IntegrationBatch.RunAsync([1, 2, 3], async (id, ct) => (await _crm.GetFromJsonAsync<DealOwner>($"/deals/{id}", ct))!.Owner);
                    return batch.Skipped.Count == 0 ? batch.ToString() : $"{batch}; skipped deal {batch.Skipped[0].Item}: {batch.Skipped[0].Failure.Kind}";
                });
            }

            string summary = "(no summary)";
            await Step(ai, "ai  chat completion (OpenAI SDK)", async () =>
            {
                var result = await _ai.ExecuteAsync("weekly-summary:acme", async ct =>
                    (await _chat.CompleteChatAsync([new UserChatMessage("Summarise this week's pipeline: " + dealsJson)], cancellationToken: ct)).Value.Content[0].Text);
                summary = result.Value;
                if (result.Degradation is { } d)
                {
                    stale ??= d;
                    return $"last good summary ({d.Kind}; as of {d.HumanAge})";
                }

                return "live";
            });

            await Step(crm, "crm POST /reports", async () =>
            {
                using var filing = new HttpRequestMessage(HttpMethod.Post, "/reports") { Content = JsonContent.Create(new { summary }) };
                filing.DeferOnFailure();
                using var answer = await _crm.SendAsync(filing);
                if (answer.GetDeferral() is not { } deferral)
                {
                    return $"{(int)answer.StatusCode} filed";
                }

                _queued.Add(deferral.IdempotencyKey);
                return $"{(int)answer.StatusCode} queued durably in SQLite (write #{deferral.Id}, Idempotency-Key {deferral.IdempotencyKey[..8]}…)";
            });

            Console.WriteLine(stale is null
                ? $"   => Report generated with live data: \"{summary}\""
                : $"   => {stale.NoticeFor("Report generated with data")}: \"{summary}\"");
            await _alerts.FlushAsync(); // the dispatcher prints alerts in the background: let them out before the summary line
            Console.WriteLine($"   health: ai {_health.Get("ai").State}, crm {_health.Get("crm").State}; queued writes: {(await _queue.GetStatsAsync("crm", CancellationToken.None)).Depth}");
        }

        public int Attempts { get; private set; }

        public async Task WaitForReplayAsync()
        {
            for (int i = 0; i < 100 && ((await _queue.GetStatsAsync("crm", CancellationToken.None)).Depth > 0 || Replayed().Count < _queued.Count); i++)
            {
                await Task.Delay(100);
            }

            var keys = Replayed();
            Console.WriteLine($"   the queued reports were replayed in order once the CRM recovered: {keys.Count} delivered, each with its own Idempotency-Key ({string.Join(", ", keys.Select(k => k[..8] + "…"))}); queue now {(await _queue.GetStatsAsync("crm", CancellationToken.None)).Depth}");
        }

        private async Task Step(WireMockServer server, string name, Func<Task<string>> call)
        {
            int before = server.LogEntries.Count();
            var watch = Stopwatch.StartNew();
            string outcome;
            try
            {
                outcome = await call();
            }
            catch (Exception ex) when (ex is IntegrationFailureException or ClientResultException)
            {
                outcome = "failed: " + (ex as IntegrationFailureException ?? ex.InnerException as IntegrationFailureException)?.Classification.ToString();
            }

            int attempts = server.LogEntries.Count() - before;
            Attempts += attempts;
            Console.WriteLine($"   {name,-34} {attempts} attempt{(attempts == 1 ? " " : "s")} {watch.ElapsedMilliseconds,5} ms  {outcome}");
        }
    }

    private sealed record DealOwner(string Owner);

    /// <summary>The system clock, moved forward on demand so the demo can say "6 hours ago" without waiting 6 hours.</summary>
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
