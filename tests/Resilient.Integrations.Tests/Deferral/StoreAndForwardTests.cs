using System.Net;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Resilient.Integrations.Alerts;
using Resilient.Integrations.Classification;
using Resilient.Integrations.Deferral;
using Resilient.Integrations.Tests.Support;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;

namespace Resilient.Integrations.Tests.Deferral;

public sealed class StoreAndForwardTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static IntegrationHarness Create(InMemoryDeferredWriteStore store, Action<Resilient.Integrations.Policies.ResilientIntegrationOptions>? configure = null) =>
        IntegrationHarness.Create(
            o =>
            {
                o.Deferral.DeferWrites = true;
                o.Deferral.RetryDelay = TimeSpan.FromSeconds(10);
                configure?.Invoke(o);
            },
            services: s => s.AddSingleton<IDeferredWriteStore>(store));

    /// <summary>One attempt per call, and an integration that never looks down, so every replay failure counts.</summary>
    private static void OneAttemptNeverRed(Resilient.Integrations.Policies.ResilientIntegrationOptions o)
    {
        o.Unavailable.MaxRetries = 0;
        o.CircuitBreaker.MinimumThroughput = 1000;
        o.Health.ConfirmAfter = 100;
    }

    private static void Contacts(IntegrationHarness h, int status)
    {
        h.Server.Reset();
        h.Server.Given(Request.Create().WithPath("/contacts").UsingPost())
            .RespondWith(Response.Create().WithStatusCode(status).WithHeader("Content-Type", "application/json").WithBody(status < 300 ? """{"id":7}""" : """{"error":{"code":"x"}}"""));
    }

    private static async Task<HttpResponseMessage> PostAsync(IntegrationHarness h, string body = """{"name":"Ada"}""", string? key = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/contacts") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", "sk-live-SECRET");
        if (key is not null)
        {
            request.Headers.Add("Idempotency-Key", key);
        }

        return await h.Clock.RunAsync(h.Client.SendAsync(request, Ct));
    }

    /// <summary>Queues one write while the CRM answers 503, then makes it answer <paramref name="thenAnswer"/> and starts the replay.</summary>
    private static async Task<global::Resilient.Integrations.Deferral.Deferral> QueueWhileDownAsync(IntegrationHarness h, int thenAnswer)
    {
        Contacts(h, 503);
        var deferral = (await PostAsync(h)).GetDeferral()!;
        Contacts(h, thenAnswer);
        await h.StartHostedServicesAsync();
        return deferral;
    }

    /// <summary>Waits for the replay loop to set its next turn, then moves the clock to it.</summary>
    private static async Task NextReplayAsync(IntegrationHarness h, TimeSpan interval)
    {
        await Eventually.WaitUntilAsync(() => h.Clock.HasTimerDueAt(h.Clock.GetUtcNow() + interval));
        h.Clock.Advance(interval);
    }

    [Fact]
    public async Task Send_WriteWhileServiceDown_QueuedAnswered202WithNotice()
    {
        var store = new InMemoryDeferredWriteStore();
        await using var h = Create(store);
        Contacts(h, 503);

        using var response = await PostAsync(h, key: "order-42");

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var deferral = response.GetDeferral()!;
        Assert.Equal("Queued; will be sent when the crm service recovers", deferral.Notice);
        Assert.Equal(FailureKind.Unavailable, deferral.Failure.Kind);
        Assert.Equal("order-42", deferral.IdempotencyKey);
        Assert.Equal(deferral.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), response.Headers.GetValues(DeferralRequestExtensions.DeferredHeader).Single());
        Assert.Equal(3, h.UpstreamAttempts("/contacts"));
        Assert.Equal(1, (await store.GetStatsAsync("crm", Ct)).Depth);
    }

    [Fact]
    public async Task Replay_ServiceRecovers_DeliveredOnceWithSameIdempotencyKeyAndRemoved()
    {
        var store = new InMemoryDeferredWriteStore();
        await using var h = Create(store);
        var deferral = await QueueWhileDownAsync(h, thenAnswer: 201);

        await NextReplayAsync(h, TimeSpan.FromSeconds(30));
        await Eventually.WaitUntilAsync(() => store.GetStatsAsync("crm", Ct).AsTask().Result.Depth == 0);

        var delivered = Assert.Single(h.Server.LogEntries).RequestMessage!;
        Assert.Equal(deferral.IdempotencyKey, delivered.Headers!["Idempotency-Key"].Single());
        Assert.Equal("""{"name":"Ada"}""", delivered.Body);
    }

    [Fact]
    public async Task Send_QueuedWrite_EveryAttemptFromTheFirstCarriesTheSameKey()
    {
        var store = new InMemoryDeferredWriteStore();
        await using var h = Create(store);
        Contacts(h, 503);
        var deferral = (await PostAsync(h)).GetDeferral()!;
        var firstAttempts = h.Server.LogEntries.Select(e => e.RequestMessage!.Headers!["Idempotency-Key"].Single()).ToList();
        h.Server.ResetLogEntries();
        h.Server.Given(Request.Create().WithPath("/contacts").UsingPost()).AtPriority(1).RespondWith(Response.Create().WithStatusCode(201));
        await h.StartHostedServicesAsync();

        await NextReplayAsync(h, TimeSpan.FromSeconds(30));
        await Eventually.WaitUntilAsync(() => h.Server.LogEntries.Any());

        Assert.Equal(3, firstAttempts.Count);
        Assert.All(firstAttempts, key => Assert.Equal(deferral.IdempotencyKey, key));
        Assert.Equal(deferral.IdempotencyKey, h.Server.LogEntries.Single().RequestMessage!.Headers!["Idempotency-Key"].Single());
    }

    [Fact]
    public async Task Replay_PausedOnAuth_ResumesWhenIntegrationTurnsGreen()
    {
        var store = new InMemoryDeferredWriteStore();
        await using var h = Create(store);
        await QueueWhileDownAsync(h, thenAnswer: 401);
        await NextReplayAsync(h, TimeSpan.FromSeconds(30));
        await Eventually.WaitUntilAsync(() => h.Server.LogEntries.Count() == 1);   // refused: paused

        Contacts(h, 201);
        h.Server.Given(Request.Create().WithPath("/call").UsingGet())
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json").WithBody("{}"));
        await h.GetAsync();
        await h.GetAsync();                                                                    // Green again

        await Eventually.WaitUntilAsync(() => store.GetStatsAsync("crm", Ct).AsTask().Result.Depth == 0);
        Assert.Contains(h.Server.LogEntries, e => e.RequestMessage!.Path == "/contacts");
    }

    [Fact]
    public async Task Replay_Rejected_DeadLetteredAtOnce()
    {
        var store = new InMemoryDeferredWriteStore();
        await using var h = Create(store);
        await QueueWhileDownAsync(h, thenAnswer: 422);

        await NextReplayAsync(h, TimeSpan.FromSeconds(30));
        await Eventually.WaitUntilAsync(() => store.GetStatsAsync("crm", Ct).AsTask().Result.DeadLettered == 1);

        Assert.Equal(0, (await store.GetStatsAsync("crm", Ct)).Depth);
        Assert.Single(h.Server.LogEntries);
    }

    [Fact]
    public async Task Replay_StillFailingAfterMaxAttempts_DeadLetteredWithCriticalAlert()
    {
        var store = new InMemoryDeferredWriteStore();
        // A poison write: it keeps failing while the integration does not look down (a Red integration's
        // failures would not count against the write).
        await using var h = Create(store, o =>
        {
            o.Deferral.MaxAttempts = 2;
            OneAttemptNeverRed(o);
        });
        Contacts(h, 503);
        await PostAsync(h);
        await h.StartHostedServicesAsync();

        await NextReplayAsync(h, TimeSpan.FromSeconds(30));   // attempt 1: rescheduled 10 s later
        await Eventually.WaitUntilAsync(() => store.GetDueAsync("crm", h.Clock.GetUtcNow().AddSeconds(10), 1, Ct).AsTask().Result.FirstOrDefault()?.Attempts == 1);
        await NextReplayAsync(h, TimeSpan.FromSeconds(30));   // attempt 2: dead-lettered

        // The alert is raised after the store has dead-lettered the write: wait for the alert itself.
        await h.Alerts.WaitForAsync(a => a.Severity == AlertSeverity.Critical && a.Message.Contains("dead-lettered after 2 attempts", StringComparison.Ordinal));
        var stats = await store.GetStatsAsync("crm", Ct);
        Assert.Equal((0, 1), (stats.Depth, stats.DeadLettered));
    }

    [Fact]
    public async Task Replay_AuthFailure_PausesWithCriticalAlertAndKeepsWrite()
    {
        var store = new InMemoryDeferredWriteStore();
        await using var h = Create(store);
        await QueueWhileDownAsync(h, thenAnswer: 401);

        await NextReplayAsync(h, TimeSpan.FromSeconds(30));
        await Eventually.WaitUntilAsync(() => h.Server.LogEntries.Count() == 1);
        await NextReplayAsync(h, TimeSpan.FromSeconds(30));   // paused: no new attempt
        await Eventually.WaitUntilAsync(() => h.Clock.HasTimerDueAt(h.Clock.GetUtcNow() + TimeSpan.FromSeconds(30))); // that turn is over

        await h.Alerts.WaitForAsync(a => a.Severity == AlertSeverity.Critical && a.Message.Contains("replay of deferred writes paused", StringComparison.Ordinal));
        Assert.Single(h.Server.LogEntries);
        Assert.Equal(1, (await store.GetStatsAsync("crm", Ct)).Depth);
    }

    [Fact]
    public async Task Send_WhileIntegrationRed_QueuedWithoutTouchingUpstream()
    {
        var store = new InMemoryDeferredWriteStore();
        await using var h = Create(store);
        h.Server.Given(Request.Create().WithPath("/call").UsingGet()).RespondWith(Response.Create().WithStatusCode(401));
        await h.GetAsync();                                       // a live 401 turns the integration Red at once
        Contacts(h, 201);

        using var response = await PostAsync(h);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.False(response.GetDeferral()!.Failure.IsFailure);
        Assert.Empty(h.Server.LogEntries);
    }

    [Fact]
    public async Task Send_ReadOrNotDeferrable_FailsAsUsual()
    {
        var store = new InMemoryDeferredWriteStore();
        await using var h = IntegrationHarness.Create(services: s => s.AddSingleton<IDeferredWriteStore>(store));
        Contacts(h, 503);

        var error = await Record.ExceptionAsync(() => PostAsync(h));

        Assert.Equal(FailureKind.Unavailable, Assert.IsType<IntegrationFailureException>(error).Kind);
        Assert.Equal(0, (await store.GetStatsAsync("crm", Ct)).Depth);
    }

    [Fact]
    public async Task SendOrQueue_GenericWriteWhileDown_QueuedThenReplayedThroughHandler()
    {
        var store = new InMemoryDeferredWriteStore();
        var email = new EmailHandler(failures: 1);
        await using var h = IntegrationHarness.Create(
            o => o.Unavailable.MaxRetries = 0,
            services: s => s.AddSingleton<IDeferredWriteStore>(store).AddSingleton<IDeferredWriteHandler>(email));
        var writes = h.Provider.GetRequiredService<IDeferredWrites>();

        var deferral = await writes.SendOrQueueAsync("crm", "email", Encoding.UTF8.GetBytes("to=ada"), "mail-1", Ct);

        Assert.NotNull(deferral);
        Assert.Equal(FailureKind.Unavailable, deferral.Failure.Kind);
        await h.StartHostedServicesAsync();
        await NextReplayAsync(h, TimeSpan.FromSeconds(30));
        await Eventually.WaitUntilAsync(() => email.Delivered.Count == 1);
        Assert.Equal(("mail-1", "to=ada"), (email.Delivered[0].IdempotencyKey, Encoding.UTF8.GetString(email.Delivered[0].Body.Span)));
        await Eventually.WaitUntilAsync(() => store.GetStatsAsync("crm", Ct).AsTask().Result.Depth == 0);
    }

    [Fact]
    public async Task SendOrQueue_ServiceUp_DeliveredAtOnceNotQueued()
    {
        var store = new InMemoryDeferredWriteStore();
        var email = new EmailHandler(failures: 0);
        await using var h = IntegrationHarness.Create(services: s => s.AddSingleton<IDeferredWriteStore>(store).AddSingleton<IDeferredWriteHandler>(email));

        var deferral = await h.Provider.GetRequiredService<IDeferredWrites>().SendOrQueueAsync("crm", "email", Encoding.UTF8.GetBytes("x"), cancellationToken: Ct);

        Assert.Null(deferral);
        Assert.Single(email.Delivered);
        Assert.Equal(0, (await store.GetStatsAsync("crm", Ct)).Depth);
    }

    [Fact]
    public async Task Replay_BacklogAboveThreshold_IntegrationYellowAndDepthMeasured()
    {
        var store = new InMemoryDeferredWriteStore();
        await using var h = Create(store, o =>
        {
            o.Deferral.BacklogYellowThreshold = 1;
            OneAttemptNeverRed(o);
        });
        using var depth = new Microsoft.Extensions.Diagnostics.Metrics.Testing.MetricCollector<int>(
            h.Provider.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(), "Resilient.Integrations", "resilient_integrations.deferral.depth");
        h.Server.Given(Request.Create().WithPath("/call").UsingGet())
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json").WithBody("{}"));
        await h.GetAsync();                                          // Green
        h.Server.Given(Request.Create().WithPath("/contacts").UsingPost()).RespondWith(Response.Create().WithStatusCode(503));
        await PostAsync(h);
        await PostAsync(h);
        await h.StartHostedServicesAsync();

        await NextReplayAsync(h, TimeSpan.FromSeconds(30));
        await Eventually.WaitUntilAsync(() => Monitor(h).Get("crm").State == Resilient.Integrations.Health.HealthState.Yellow);

        depth.RecordObservableInstruments();
        Assert.Equal(2, depth.LastMeasurement!.Value);
    }

    private static Resilient.Integrations.Health.IIntegrationHealthMonitor Monitor(IntegrationHarness h) =>
        h.Provider.GetRequiredService<Resilient.Integrations.Health.IIntegrationHealthMonitor>();

    private sealed class EmailHandler(int failures) : IDeferredWriteHandler
    {
        private int _left = failures;

        public string Name => "email";

        public List<DeferredWrite> Delivered { get; } = [];

        public Task HandleAsync(DeferredWrite write, CancellationToken cancellationToken)
        {
            if (Interlocked.Decrement(ref _left) >= 0)
            {
                throw new HttpRequestException(HttpRequestError.ConnectionError, "smtp relay unreachable");
            }

            lock (Delivered)
            {
                Delivered.Add(write);
            }

            return Task.CompletedTask;
        }
    }

    [Fact]
    public async Task Send_RejectedWrite_NotQueued()
    {
        var store = new InMemoryDeferredWriteStore();
        await using var h = Create(store);
        Contacts(h, 400);

        var error = await Record.ExceptionAsync(() => PostAsync(h));

        Assert.Equal(FailureKind.Rejected, Assert.IsType<IntegrationFailureException>(error).Kind);
        Assert.Equal(0, (await store.GetStatsAsync("crm", Ct)).Depth);
    }
}
