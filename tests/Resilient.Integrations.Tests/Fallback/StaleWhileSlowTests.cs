using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Resilient.Integrations.Classification;
using Resilient.Integrations.Fallback;
using Resilient.Integrations.Health;
using Resilient.Integrations.Policies;
using Resilient.Integrations.Tests.Support;
using WireMock;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;

namespace Resilient.Integrations.Tests.Fallback;

/// <summary>
/// Fallback:SoftTimeout through real HTTP: the upstream holds each answer until the test releases it, so nothing depends
/// on how fast the machine is; the soft timeout is a timer on the test clock, jumped to by <see cref="TestClock.RunAsync{T}"/>.
/// </summary>
public sealed class StaleWhileSlowTests
{
    private const int ServedWhileSlowEvent = 70;
    private const int LandedEvent = 71;
    private static readonly TimeSpan SoftTimeout = TimeSpan.FromMilliseconds(200);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static IntegrationHarness Create(Action<ResilientIntegrationOptions>? configure = null, ResponseTracker? tracker = null) =>
        IntegrationHarness.Create(
            o =>
            {
                o.Fallback.SoftTimeout = SoftTimeout;
                o.Unavailable.MaxRetries = 0;
                configure?.Invoke(o);
            },
            build: tracker is null ? null : b => b.HttpClientBuilder.AddHttpMessageHandler(() => new TrackingHandler(tracker)));

    /// <summary>Answers <paramref name="path"/> at once: the copy the slow reads fall back on.</summary>
    private static async Task PrimeAsync(IntegrationHarness h, string body, string path = "/call")
    {
        h.Server.Given(Request.Create().WithPath(path).UsingGet()).AtPriority(10)
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json").WithBody(body));
        var (response, error) = await h.GetAsync(path);
        Assert.Null(error);
        Assert.Null(response!.GetDegradation());
        response!.Dispose();
        h.Server.Reset();
    }

    /// <summary>Holds every answer to <paramref name="path"/> until the returned gate is opened; counts the requests that arrived.</summary>
    private static Gate Hold(IntegrationHarness h, string path = "/call")
    {
        var gate = new Gate();
        h.Server.Given(Request.Create().WithPath(path).UsingGet()).RespondWith(Response.Create().WithCallback(async _ =>
        {
            gate.Arrive();
            var (status, body) = await gate.Answer;
            var message = new ResponseMessage
            {
                StatusCode = status,
                BodyData = new WireMock.Util.BodyData { BodyAsString = body, DetectedBodyType = WireMock.Types.BodyType.String, Encoding = System.Text.Encoding.UTF8 },
            };
            message.AddHeader("Content-Type", "application/json");
            return (IResponseMessage)message;
        }));
        return gate;
    }

    /// <summary>An upstream answer held back: WireMock logs a request only once answered, so arrivals are counted here.</summary>
    private sealed class Gate
    {
        private readonly TaskCompletionSource<(int Status, string Body)> _answer = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _arrived;

        public int Arrived => Volatile.Read(ref _arrived);

        public Task<(int Status, string Body)> Answer => _answer.Task;

        public void Arrive() => Interlocked.Increment(ref _arrived);

        public void SetResult((int Status, string Body) answer) => _answer.SetResult(answer);
    }

    private static bool Landed(IntegrationHarness h, int count = 1) => h.Logs.GetSnapshot().Count(l => l.Id.Id == LandedEvent) >= count;

    [Fact]
    public async Task Send_SlowLiveWithCopy_AnswersFromCopyAtSoftTimeoutAndRefreshesItWhenLiveLands()
    {
        await using var h = Create();
        await PrimeAsync(h, """{"week":47}""");
        h.Clock.Advance(TimeSpan.FromMinutes(6));
        var gate = Hold(h);
        using var servedWhileSlow = h.Metric("resilient_integrations.fallback.served_while_slow");

        var call = h.Client.GetAsync("/call", Ct);
        await Eventually.WaitUntilAsync(() => gate.Arrived == 1);
        using var stale = await h.Clock.RunAsync(call);

        var degradation = stale.GetDegradation()!;
        Assert.Equal(DegradationCause.LiveCallSlow, degradation.Cause);
        Assert.Equal(FailureKind.Timeout, degradation.Kind);
        Assert.Equal("Data as of 6 minutes ago (live data slow)", degradation.Notice);
        Assert.Equal("""{"week":47}""", await stale.Content.ReadAsStringAsync(Ct));
        Assert.EndsWith("; slow", stale.Headers.GetValues(FallbackRequestExtensions.DegradedHeader).Single(), StringComparison.Ordinal);
        Assert.Equal("background", Assert.Single(servedWhileSlow.GetMeasurementSnapshot()).Tags["live_call"]);
        Assert.Single(h.Logs.GetSnapshot(), l => l.Id.Id == ServedWhileSlowEvent);
        var status = await h.Provider.GetRequiredService<Resilient.Integrations.Status.IResilienceStatus>().GetAsync(Ct);
        Assert.Equal(1, status.Integrations.Single(i => i.Name == IntegrationHarness.Name).CopiesServed);

        // The live call goes on without anyone waiting, and refreshes the copy when it lands.
        var landedAt = h.Clock.GetUtcNow();
        gate.SetResult((200, """{"week":48}"""));
        await Eventually.WaitUntilAsync(() => Landed(h));
        Assert.Equal(1, gate.Arrived);

        h.Clock.Advance(TimeSpan.FromMinutes(10));
        h.Server.Reset();
        h.Server.Given(Request.Create().WithPath("/call")).RespondWith(Response.Create().WithStatusCode(503));
        // Without a clock running, the 503 lands before the soft timeout: the copy is served for the failure.
        using (var down = await h.Client.GetAsync("/call", Ct))
        {
            Assert.Equal("""{"week":48}""", await down.Content.ReadAsStringAsync(Ct));
            Assert.Equal(landedAt, down.GetDegradation()!.AsOf);
            Assert.Equal(DegradationCause.LiveCallFailed, down.GetDegradation()!.Cause);
            Assert.Equal("Data as of 10 minutes ago (live data temporarily unavailable)", down.GetDegradation()!.Notice);
        }
    }

    [Fact]
    public async Task Send_SlowLiveWithoutCopy_WaitsForTheLiveAnswer()
    {
        await using var h = Create();
        var gate = Hold(h);

        var call = h.Client.GetAsync("/call", Ct);
        await Eventually.WaitUntilAsync(() => gate.Arrived == 1);
        h.Clock.Advance(TimeSpan.FromSeconds(5)); // well past the soft timeout: there is nothing to answer with
        gate.SetResult((200, """{"week":48}"""));
        using var live = await h.Clock.RunAsync(call);

        Assert.Null(live.GetDegradation());
        Assert.Equal("""{"week":48}""", await live.Content.ReadAsStringAsync(Ct));
        Assert.DoesNotContain(h.Logs.GetSnapshot(), l => l.Id.Id == ServedWhileSlowEvent);
    }

    [Fact]
    public async Task Send_SoftTimeoutOff_WaitsForTheLiveAnswer()
    {
        await using var h = Create(o => o.Fallback.SoftTimeout = null);
        await PrimeAsync(h, """{"week":47}""");
        var gate = Hold(h);

        var call = h.Client.GetAsync("/call", Ct);
        await Eventually.WaitUntilAsync(() => gate.Arrived == 1);
        h.Clock.Advance(TimeSpan.FromSeconds(5));
        gate.SetResult((200, """{"week":48}"""));
        using var live = await h.Clock.RunAsync(call);

        Assert.Null(live.GetDegradation());
        Assert.Equal("""{"week":48}""", await live.Content.ReadAsStringAsync(Ct));
    }

    [Fact]
    public async Task Send_CallerCancelsBeforeSoftTimeout_IsCancelledAndNothingIsReported()
    {
        await using var h = Create();
        await PrimeAsync(h, """{"week":47}""");
        var gate = Hold(h);
        using var failures = h.Metric("resilient_integrations.failures");
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(Ct);

        var call = h.Client.GetAsync("/call", cancel.Token);
        await Eventually.WaitUntilAsync(() => gate.Arrived == 1);
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);
        gate.SetResult((200, """{"week":48}"""));
        Assert.Empty(await h.SettledAlertsAsync()); // first: the settle wait lets anything the held call would report arrive
        Assert.Empty(failures.GetMeasurementSnapshot());
        Assert.DoesNotContain(h.Logs.GetSnapshot(), l => l.Id.Id is ServedWhileSlowEvent or LandedEvent);
    }

    [Fact]
    public async Task Send_BackgroundCallFails_IsAlertedAndFedToHealthWhileTheCallerHasTheCopy()
    {
        await using var h = Create();
        await PrimeAsync(h, """{"week":47}""");
        var gate = Hold(h);
        using var failures = h.Metric("resilient_integrations.failures");

        var call = h.Client.GetAsync("/call", Ct);
        await Eventually.WaitUntilAsync(() => gate.Arrived == 1);
        using var stale = await h.Clock.RunAsync(call);
        Assert.Equal(DegradationCause.LiveCallSlow, stale.GetDegradation()!.Cause);

        gate.SetResult((503, """{"error":{"code":"service_unavailable"}}"""));
        var alert = await h.Alerts.WaitForAsync(a => a.Kind == FailureKind.Unavailable);

        Assert.Contains("GET /call", alert.Message, StringComparison.Ordinal);
        await Eventually.WaitUntilAsync(() => Landed(h));
        Assert.Equal("Unavailable", Assert.Single(failures.GetMeasurementSnapshot()).Tags["kind"]);
        Assert.Equal(FailureKind.Unavailable, h.Provider.GetRequiredService<IIntegrationHealthMonitor>().Get(IntegrationHarness.Name).LastFailureKind);
        Assert.Equal(1, gate.Arrived);
    }

    [Fact]
    public async Task Send_BoundReached_AnswersFromCopyAndCancelsTheLiveCall()
    {
        await using var h = Create(o => o.Fallback.MaxBackgroundRefreshes = 1);
        await PrimeAsync(h, """{"page":"a"}""", "/a");
        await PrimeAsync(h, """{"page":"b"}""", "/b");
        var gateA = Hold(h, "/a");
        var gateB = Hold(h, "/b");
        using var servedWhileSlow = h.Metric("resilient_integrations.fallback.served_while_slow");
        using var failures = h.Metric("resilient_integrations.failures");

        var callA = h.Client.GetAsync("/a", Ct);
        await Eventually.WaitUntilAsync(() => gateA.Arrived == 1);
        using var staleA = await h.Clock.RunAsync(callA);
        var callB = h.Client.GetAsync("/b", Ct);
        await Eventually.WaitUntilAsync(() => gateB.Arrived == 1);
        using var staleB = await h.Clock.RunAsync(callB);

        // Both callers have their copy at the soft timeout; only the first live call goes on.
        Assert.Equal("""{"page":"b"}""", await staleB.Content.ReadAsStringAsync(Ct));
        Assert.Equal(DegradationCause.LiveCallSlow, staleB.GetDegradation()!.Cause);
        Assert.Equal(["background", "abandoned"], servedWhileSlow.GetMeasurementSnapshot().Select(m => (string)m.Tags["live_call"]!));
        Assert.Contains(h.Logs.GetSnapshot(), l => l.Id.Id == ServedWhileSlowEvent && l.Message.Contains("was cancelled", StringComparison.Ordinal));

        gateA.SetResult((200, """{"page":"a2"}"""));
        gateB.SetResult((200, """{"page":"b2"}"""));
        await Eventually.WaitUntilAsync(() => Landed(h));
        Assert.Equal(1, gateA.Arrived);
        Assert.Equal(1, gateB.Arrived);
        Assert.Empty(failures.GetMeasurementSnapshot()); // the cancelled live call is no failure

        // Its place free again, the next slow read goes on in the background.
        h.Server.Reset();
        var gateB2 = Hold(h, "/b");
        var again = h.Client.GetAsync("/b", Ct);
        await Eventually.WaitUntilAsync(() => gateB2.Arrived == 1);
        using var staleAgain = await h.Clock.RunAsync(again);
        gateB2.SetResult((200, """{"page":"b3"}"""));
        await Eventually.WaitUntilAsync(() => Landed(h, 2));
        Assert.Equal("background", (string)servedWhileSlow.GetMeasurementSnapshot()[^1].Tags["live_call"]!);
    }

    [Fact]
    public async Task Send_SameRequestAlreadyRefreshing_AnswersFromCopyWithoutASecondUpstreamCall()
    {
        await using var h = Create();
        await PrimeAsync(h, """{"week":47}""");
        var gate = Hold(h);
        using var servedWhileSlow = h.Metric("resilient_integrations.fallback.served_while_slow");

        var first = h.Client.GetAsync("/call", Ct);
        await Eventually.WaitUntilAsync(() => gate.Arrived == 1);
        using var firstStale = await h.Clock.RunAsync(first);
        using var second = await h.Client.GetAsync("/call", Ct);

        Assert.Equal(DegradationCause.LiveCallSlow, second.GetDegradation()!.Cause);
        Assert.Equal("""{"week":47}""", await second.Content.ReadAsStringAsync(Ct));
        Assert.Equal(["background", "joined"], servedWhileSlow.GetMeasurementSnapshot().Select(m => (string)m.Tags["live_call"]!));
        gate.SetResult((200, """{"week":48}"""));
        await Eventually.WaitUntilAsync(() => Landed(h));
        Assert.Equal(1, gate.Arrived);
    }

    [Fact]
    public async Task Send_SlowWrite_IsNeverAnsweredFromTheCopy()
    {
        await using var h = Create(o => o.Fallback.CacheableMethods.Add("POST"));
        await PrimeAsync(h, """{"week":47}""");
        h.Server.Given(Request.Create().WithPath("/call").UsingPost()).RespondWith(Response.Create().WithStatusCode(200).WithBody("""{"week":47}"""));
        using (var primed = await h.Clock.RunAsync(h.Client.PostAsync("/call", new StringContent("{}"), Ct)))
        {
            Assert.Null(primed.GetDegradation());
        }

        h.Server.Reset();
        var gate = new Gate();
        h.Server.Given(Request.Create().WithPath("/call").UsingPost()).RespondWith(Response.Create().WithCallback(async _ =>
        {
            gate.Arrive();
            await gate.Answer;
            return (IResponseMessage)new ResponseMessage { StatusCode = 201 };
        }));

        var write = h.Client.PostAsync("/call", new StringContent("{}"), Ct);
        await Eventually.WaitUntilAsync(() => gate.Arrived == 1);
        h.Clock.Advance(TimeSpan.FromSeconds(5));
        gate.SetResult((201, string.Empty));
        using var written = await h.Clock.RunAsync(write);

        Assert.Equal(HttpStatusCode.Created, written.StatusCode);
        Assert.Null(written.GetDegradation());
    }

    [Fact]
    public async Task Send_BackgroundCallLands_LeavesNoResponseOpen()
    {
        var tracker = new ResponseTracker();
        await using var h = Create(tracker: tracker);
        await PrimeAsync(h, """{"week":47}""");
        var gate = Hold(h);

        var call = h.Client.GetAsync("/call", Ct);
        await Eventually.WaitUntilAsync(() => gate.Arrived == 1);
        using (var stale = await h.Clock.RunAsync(call))
        {
            Assert.Equal(DegradationCause.LiveCallSlow, stale.GetDegradation()!.Cause);
        }

        gate.SetResult((200, """{"week":48}"""));
        await Eventually.WaitUntilAsync(() => Landed(h));

        Assert.Equal(2, tracker.Created);
        await Eventually.WaitUntilAsync(() => tracker.Open == 0);
    }

    [Theory]
    [InlineData("00:00:00", "must be positive")]
    [InlineData("00:05:00", "must be below ResilientIntegrations:crm:TotalTimeout")]
    public void Validate_SoftTimeoutOutOfRange_NamesTheKey(string softTimeout, string rule)
    {
        var options = new ResilientIntegrationOptions { TotalTimeout = TimeSpan.FromMinutes(5) };
        options.Fallback.SoftTimeout = TimeSpan.Parse(softTimeout, System.Globalization.CultureInfo.InvariantCulture);

        var result = new Resilient.Integrations.Policies.Internal.ResilientIntegrationOptionsValidator().Validate("crm", options);

        Assert.True(result.Failed);
        Assert.Contains(result.Failures!, f => f.StartsWith("ResilientIntegrations:crm:Fallback:SoftTimeout", StringComparison.Ordinal) && f.Contains(rule, StringComparison.Ordinal));
    }

    [Fact]
    public void Validate_MaxBackgroundRefreshesZero_NamesTheKey()
    {
        var options = new ResilientIntegrationOptions();
        options.Fallback.MaxBackgroundRefreshes = 0;

        var result = new Resilient.Integrations.Policies.Internal.ResilientIntegrationOptionsValidator().Validate("crm", options);

        Assert.Contains(result.Failures!, f => f.StartsWith("ResilientIntegrations:crm:Fallback:MaxBackgroundRefreshes", StringComparison.Ordinal));
    }

    /// <summary>Counts the responses the upstream gave the pipeline and those disposed.</summary>
    private sealed class ResponseTracker
    {
        private int _created;
        private int _disposed;

        public int Created => Volatile.Read(ref _created);

        public int Open => Created - Volatile.Read(ref _disposed);

        public void Track(HttpResponseMessage response)
        {
            Interlocked.Increment(ref _created);
            response.Content = new TrackedContent(response.Content, () => Interlocked.Increment(ref _disposed));
        }
    }

    private sealed class TrackingHandler(ResponseTracker tracker) : DelegatingHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var response = await base.SendAsync(request, cancellationToken);
            tracker.Track(response);
            return response;
        }
    }

    private sealed class TrackedContent : HttpContent
    {
        private readonly HttpContent _inner;
        private readonly Action _disposed;
        private int _done;

        public TrackedContent(HttpContent inner, Action disposed)
        {
            _inner = inner;
            _disposed = disposed;
            foreach (var header in inner.Headers.NonValidated)
            {
                Headers.TryAddWithoutValidation(header.Key, header.Value);
            }
        }

        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) => _inner.CopyToAsync(stream);

        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken) =>
            _inner.CopyToAsync(stream, cancellationToken);

        protected override Task<Stream> CreateContentReadStreamAsync() => _inner.ReadAsStreamAsync();

        protected override Task<Stream> CreateContentReadStreamAsync(CancellationToken cancellationToken) => _inner.ReadAsStreamAsync(cancellationToken);

        protected override bool TryComputeLength(out long length)
        {
            length = _inner.Headers.ContentLength ?? -1;
            return length >= 0;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing && Interlocked.Exchange(ref _done, 1) == 0)
            {
                _inner.Dispose();
                _disposed();
            }

            base.Dispose(disposing);
        }
    }
}
