using System.Collections.Concurrent;
using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Resilient.Integrations.Alerts;
using Resilient.Integrations.Classification;
using Resilient.Integrations.Fallback;
using Resilient.Integrations.Tests.Support;
using WireMock;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;

namespace Resilient.Integrations.Tests.Soak;

/// <summary>
/// The regression guard of a production trial: thousands of calls at high concurrency against a loopback upstream
/// that fails a random 30% of attempts in every way (503, 429 with retry-after-ms, a short 401 window, truncated
/// JSON, answers past the attempt timeout). Every call ends typed, alerts stay within one per kind and severity per
/// cooldown, retries stay within the budget, and memory stays flat. Short real time: the run takes seconds.
/// </summary>
[Collection(SoakCollection.Name)]
public sealed class TurbulenceSoakTests
{
    private const string Integration = "soak";
    private const string Healthy = """{"data":[{"id":1,"name":"Ada"},{"id":2,"name":"Grace"}]}""";
    private static readonly TimeSpan AttemptTimeout = TimeSpan.FromSeconds(2);

    /// <summary>Calls of the run; <c>RESILIENT_SOAK_CALLS=10000</c> repeats the full trial by hand.</summary>
    private static int Calls => int.TryParse(Environment.GetEnvironmentVariable("RESILIENT_SOAK_CALLS"), NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n > 0 ? n : 3_000;

    [Fact]
    public async Task Send_ThousandsOfCallsUnderRandomFaults_TypedOutcomesBoundedAlertsRetriesAndMemory()
    {
        int calls = Calls;
        using var upstream = Turbulent(calls, seed: 20261202);
        var alerts = new CountingSink();
        var services = new ServiceCollection();
        services.AddLogging(l => l.SetMinimumLevel(LogLevel.Warning));
        services.AddResilientIntegration(Integration, o =>
        {
            o.BaseAddress = new Uri(upstream.Server.Url!);
            o.AttemptTimeout = AttemptTimeout;
            o.TotalTimeout = TimeSpan.FromSeconds(10);
            o.CircuitBreaker.MinimumThroughput = 100; // opens under a real outage, flaps open and closed under this mix
            o.CircuitBreaker.SamplingDuration = TimeSpan.FromSeconds(2);
            o.CircuitBreaker.BreakDuration = TimeSpan.FromMilliseconds(500);
            foreach (var kind in Enum.GetValues<FailureKind>())
            {
                o.PolicyFor(kind).BaseDelay = TimeSpan.FromMilliseconds(5);
                o.PolicyFor(kind).MaxDelay = TimeSpan.FromSeconds(2);
            }
        })
        .AddAlertSink(alerts)
        .ConfigureAlerts(a => a.Cooldown = TimeSpan.FromMinutes(5));
        var unobserved = new ConcurrentQueue<Exception>();
        EventHandler<UnobservedTaskExceptionEventArgs> record = (_, e) =>
        {
            if (e.Exception.InnerExceptions.Any(x => IntegrationFailureException.Find(x, Integration) is not null))
            {
                unobserved.Enqueue(e.Exception);
            }
        };
        TaskScheduler.UnobservedTaskException += record;
        try
        {
            await using var provider = services.BuildServiceProvider();
            var factory = provider.GetRequiredService<IHttpClientFactory>();
            var outcomes = new ConcurrentDictionary<string, int>(StringComparer.Ordinal);
            var untyped = new ConcurrentQueue<Exception>();
            string? firstFailure = null;

            async Task RunAsync(int count, int concurrency)
            {
                await Parallel.ForAsync(0, count, new ParallelOptions { MaxDegreeOfParallelism = concurrency, CancellationToken = TestContext.Current.CancellationToken }, async (i, ct) =>
                {
                    var client = factory.CreateClient(Integration);
                    try
                    {
                        using var response = await client.GetAsync(i % 40 == 0 ? "/slow" : "/deals", ct);
                        _ = await response.Content.ReadAsStringAsync(ct);
                        string outcome = response.GetDegradation() is { } stale ? "stale:" + stale.Failure.Kind + ":" + stale.Failure.Reason : response.IsSuccessStatusCode ? "ok" : ((int)response.StatusCode).ToString(CultureInfo.InvariantCulture);
                        outcomes.AddOrUpdate(outcome, 1, (_, n) => n + 1);
                    }
                    catch (IntegrationFailureException ex) when (ex.Kind is not (FailureKind.None or FailureKind.Unknown))
                    {
                        outcomes.AddOrUpdate(ex.Kind.ToString(), 1, (_, n) => n + 1);
                        firstFailure ??= ex.Classification.ToString();
                    }
                    catch (Exception ex)
                    {
                        untyped.Enqueue(ex);
                    }
                });
            }

            await RunAsync(Math.Min(200, calls), concurrency: 4); // warm-up: pools, JIT, caches, a first good copy
            GC.Collect();
            GC.WaitForPendingFinalizers();
            long before = GC.GetTotalMemory(forceFullCollection: true);
            int attemptsBefore = Volatile.Read(ref upstream.Attempts);

            await RunAsync(calls, concurrency: 64);
            await provider.GetRequiredService<IAlertDispatcher>().FlushAsync(TestContext.Current.CancellationToken);

            GC.Collect();
            GC.WaitForPendingFinalizers();
            long after = GC.GetTotalMemory(forceFullCollection: true);
            int attempts = Volatile.Read(ref upstream.Attempts) - attemptsBefore;

            string summary = $"{calls} calls, {attempts} attempts, outcomes {string.Join(", ", outcomes.OrderBy(o => o.Key).Select(o => $"{o.Key}={o.Value}"))}; " +
                $"alerts {alerts.Count}: {alerts.Describe()}; memory {before / 1024} KiB -> {after / 1024} KiB; first failure: {firstFailure}";
            TestContext.Current.TestOutputHelper?.WriteLine(summary);
            if (Environment.GetEnvironmentVariable("RESILIENT_SOAK_REPORT") is { Length: > 0 } report)
            {
                await File.WriteAllTextAsync(report, summary + Environment.NewLine, TestContext.Current.CancellationToken);
            }

            Assert.True(untyped.IsEmpty, $"untyped: {untyped.FirstOrDefault()}\n{summary}");
            Assert.Equal(calls + Math.Min(200, calls), outcomes.Values.Sum());

            // One alert per kind and severity per cooldown (the circuit's own alert apart), plus escalations (a higher
            // severity of the same kind is its own key), plus at most one recovered notice: the run is inside one cooldown.
            Assert.All(alerts.ByKindAndSeverity(), g => Assert.True(g.Count <= 1, $"{g.Key}: {g.Count} alerts\n{summary}"));

            // The retry budget: retries are at most 20% of the requests of a 10 s window, at least 10 per window.
            double amplification = (double)attempts / calls;
            Assert.True(amplification <= 1.2 + (10.0 * 3 / calls) + 0.05, $"amplification {amplification:0.###}\n{summary}");

            // Memory: what the run leaves behind is bounded (the last-good cache, pools), not proportional to the calls.
            Assert.True(after - before < 16L * 1024 * 1024, summary);
        }
        finally
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            TaskScheduler.UnobservedTaskException -= record;
        }

        Assert.True(unobserved.IsEmpty, $"unobserved task exception: {unobserved.FirstOrDefault()}");
    }

    /// <summary>A 30% fault rate drawn per attempt; a 401 window in the middle of the run; /slow answers after the attempt timeout.</summary>
    private static Upstream Turbulent(int calls, int seed)
    {
        // The upstream counts its attempts itself and keeps no request log: it shares the process whose memory is measured.
        var server = new Upstream(WireMockServer.Start(new WireMock.Settings.WireMockServerSettings { Urls = ["http://127.0.0.1:0"], MaxRequestLogCount = 0 }));
        var random = new Random(seed);
        int served = 0;
        int authFrom = calls / 2;
        int authTo = authFrom + Math.Max(20, calls / 100);
        server.Server.Given(Request.Create().WithPath("/slow")).RespondWith(Response.Create().WithCallback(_ =>
        {
            Interlocked.Increment(ref server.Attempts);
            return Message(200, Healthy);
        }).WithDelay(AttemptTimeout * 2));
        server.Server.Given(Request.Create().WithPath("/deals")).RespondWith(Response.Create().WithCallback(_ =>
        {
            Interlocked.Increment(ref server.Attempts);
            int n = Interlocked.Increment(ref served);
            double roll;
            lock (random)
            {
                roll = random.NextDouble();
            }

            if (n >= authFrom && n < authTo)
            {
                return Message(401, """{"error":{"message":"Incorrect API key provided","code":"invalid_api_key"}}""");
            }

            return roll switch
            {
                < 0.10 => Message(503, """{"error":{"message":"upstream unavailable"}}"""),
                < 0.18 => WithHint(Message(429, """{"error":{"message":"Rate limit reached","code":"rate_limit_exceeded"}}"""), "20"),
                < 0.24 => Message(200, """{"data":[{"id":1,"na"""),
                < 0.30 => Message(502, "<html>bad gateway</html>", "text/html"),
                _ => Message(200, Healthy),
            };
        }));
        return server;
    }

    /// <summary>The loopback upstream and the attempts it answered (its request log keeps only the latest entries).</summary>
    private sealed class Upstream(WireMockServer server) : IDisposable
    {
        public int Attempts;

        public WireMockServer Server { get; } = server;

        public void Dispose()
        {
            Server.Stop();
            Server.Dispose();
        }
    }

    private static ResponseMessage WithHint(ResponseMessage message, string ms)
    {
        message.AddHeader("retry-after-ms", ms);
        return message;
    }

    private static ResponseMessage Message(int status, string body, string contentType = "application/json")
    {
        var message = new ResponseMessage
        {
            StatusCode = status,
            BodyData = new WireMock.Util.BodyData { BodyAsString = body, DetectedBodyType = WireMock.Types.BodyType.String, Encoding = System.Text.Encoding.UTF8 },
        };
        message.AddHeader("Content-Type", contentType);
        return message;
    }

    private sealed class CountingSink : IAlertSink
    {
        private readonly ConcurrentQueue<Alert> _alerts = new();

        public int Count => _alerts.Count;

        public ValueTask SendAsync(Alert alert, CancellationToken cancellationToken)
        {
            _alerts.Enqueue(alert);
            return ValueTask.CompletedTask;
        }

        public IEnumerable<(string Key, int Count)> ByKindAndSeverity() =>
            _alerts.GroupBy(a => $"{a.Kind}/{a.Severity}{(a.Message.StartsWith("circuit opened", StringComparison.Ordinal) ? "/circuit" : "")}").Select(g => (g.Key, g.Count()));

        public string Describe() => string.Join(", ", ByKindAndSeverity().Select(g => $"{g.Key}={g.Count}"));
    }
}

/// <summary>The soak runs alone: it measures the process's memory and its unobserved task exceptions.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SoakCollection
{
    public const string Name = "Soak";
}
