using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Resilient.Integrations.Alerts;
using Resilient.Integrations.Classification;
using Resilient.Integrations.Testing;
using Resilient.Integrations.Tests.Support;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using Resilient.Integrations.Internal;

namespace Resilient.Integrations.Tests.Policies;

public sealed class PerKindPolicyTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static void Respond(IntegrationHarness h, int status, string? body = null, params (string Name, string Value)[] headers)
    {
        var response = Response.Create().WithStatusCode(status);
        if (body is not null)
        {
            response = response.WithHeader("Content-Type", body.StartsWith('<') ? "text/html" : "application/json").WithBody(body);
        }

        foreach (var (name, value) in headers)
        {
            response = response.WithHeader(name, value);
        }

        h.Server.Given(Request.Create().WithPath("/call").UsingGet()).RespondWith(response);
    }

    private static IntegrationFailureException AssertFailure(Exception? error, FailureKind kind)
    {
        var failure = Assert.IsType<IntegrationFailureException>(error);
        Assert.Equal(kind, failure.Kind);
        Assert.Equal(IntegrationHarness.Name, failure.Integration);
        return failure;
    }

    [Fact]
    public async Task Send_TimeoutStatus_RetriesOnceThenWarns()
    {
        await using var h = IntegrationHarness.Create();
        Respond(h, 504);

        var (_, error) = await h.GetAsync();

        AssertFailure(error, FailureKind.Timeout);
        Assert.Equal(2, h.UpstreamAttempts());
        Assert.Equal([TimeSpan.FromSeconds(1)], h.Clock.Waits);
        var alert = Assert.Single(await h.SettledAlertsAsync());
        Assert.Equal(AlertSeverity.Warning, alert.Severity);
        Assert.Equal(FailureKind.Timeout, alert.Kind);
    }

    [Fact]
    public async Task Send_Unauthorized_OneAttemptAndCriticalAlert()
    {
        await using var h = IntegrationHarness.Create();
        Respond(h, 401, """{"error":{"message":"Incorrect API key provided","code":"invalid_api_key"}}""");

        var (_, error) = await h.GetAsync();

        var failure = AssertFailure(error, FailureKind.Auth);
        Assert.Equal(HttpStatusCode.Unauthorized, failure.StatusCode);
        Assert.Equal("invalid_api_key", failure.Classification.ProviderCode);
        Assert.Equal(1, h.UpstreamAttempts());
        Assert.Empty(h.Clock.Waits);
        var alert = Assert.Single(await h.SettledAlertsAsync());
        Assert.Equal(AlertSeverity.Critical, alert.Severity);
        Assert.Equal(FailureKind.Auth, alert.Kind);
        Assert.Equal("401", alert.Details["status"]);
    }

    [Fact]
    public async Task Send_QuotaExhausted_OneAttemptNoWaitCriticalAlert()
    {
        await using var h = IntegrationHarness.Create();
        Respond(h, 429, """{"error":{"message":"You exceeded your current quota","type":"insufficient_quota","code":"insufficient_quota"}}""", ("retry-after", "2"));

        var (_, error) = await h.GetAsync();

        AssertFailure(error, FailureKind.QuotaExhausted);
        Assert.Equal(1, h.UpstreamAttempts());
        Assert.Empty(h.Clock.Waits);
        Assert.Equal(AlertSeverity.Critical, Assert.Single(await h.SettledAlertsAsync()).Severity);
    }

    [Fact]
    public async Task Send_RateLimitedWithHint_WaitsForHintThenSucceeds()
    {
        await using var h = IntegrationHarness.Create();
        h.Server.Given(Request.Create().WithPath("/call").UsingGet()).InScenario("rl").WillSetStateTo("served")
            .RespondWith(Response.Create().WithStatusCode(429).WithHeader("retry-after-ms", "1500"));
        h.Server.Given(Request.Create().WithPath("/call").UsingGet()).InScenario("rl").WhenStateIs("served")
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json").WithBody("""{"ok":true}"""));

        var (response, error) = await h.GetAsync();

        Assert.Null(error);
        Assert.Equal(HttpStatusCode.OK, response!.StatusCode);
        Assert.Equal(2, h.UpstreamAttempts());
        Assert.Equal([ServerHint.Wait(TimeSpan.FromMilliseconds(1500))], h.Clock.Waits);
        Assert.Empty(await h.SettledAlertsAsync());
    }

    [Fact]
    public async Task Send_RateLimitedHintShorterThanBackoff_WaitsBackoff()
    {
        await using var h = IntegrationHarness.Create(o => o.RateLimit.BaseDelay = TimeSpan.FromSeconds(2));
        Respond(h, 429, null, ("retry-after-ms", "100"));

        await h.GetAsync();

        Assert.Equal(4, h.UpstreamAttempts());
        Assert.Equal([TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(4), TimeSpan.FromSeconds(8)], h.Clock.Waits);
    }

    [Fact]
    public async Task Send_RateLimitHintAboveCap_FailsAtOnceAsRateLimit()
    {
        await using var h = IntegrationHarness.Create();
        Respond(h, 429, null, ("Retry-After", "600"));

        var (_, error) = await h.GetAsync();

        var failure = AssertFailure(error, FailureKind.RateLimit);
        Assert.Equal(TimeSpan.FromMinutes(10), failure.Classification.RetryAfter);
        Assert.Equal(1, h.UpstreamAttempts());
        Assert.Empty(h.Clock.Waits);
    }

    [Fact]
    public async Task Send_RateLimitHintBeyondTotalBudget_FailsAtOnce()
    {
        await using var h = IntegrationHarness.Create(o => o.RateLimit.MaxDelay = TimeSpan.FromMinutes(30));
        Respond(h, 429, null, ("Retry-After", "400"));

        var (_, error) = await h.GetAsync();

        AssertFailure(error, FailureKind.RateLimit);
        Assert.Equal(1, h.UpstreamAttempts());
        Assert.Empty(h.Clock.Waits);
    }

    [Fact]
    public async Task Send_Unavailable_RetriesTwiceWithExponentialBackoffThenWarns()
    {
        await using var h = IntegrationHarness.Create();
        Respond(h, 503);

        var (_, error) = await h.GetAsync();

        AssertFailure(error, FailureKind.Unavailable);
        Assert.Equal(3, h.UpstreamAttempts());
        Assert.Equal([TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2)], h.Clock.Waits);
        Assert.Equal(AlertSeverity.Warning, Assert.Single(await h.SettledAlertsAsync()).Severity);
    }

    [Fact]
    public async Task Send_UnavailableThenRecovers_ReturnsSuccess()
    {
        await using var h = IntegrationHarness.Create();
        h.Server.Given(Request.Create().WithPath("/call").UsingGet()).InScenario("u").WillSetStateTo("up")
            .RespondWith(Response.Create().WithStatusCode(502));
        h.Server.Given(Request.Create().WithPath("/call").UsingGet()).InScenario("u").WhenStateIs("up")
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json").WithBody("[]"));

        var (response, error) = await h.GetAsync();

        Assert.Null(error);
        Assert.Equal("[]", await response!.Content.ReadAsStringAsync(Ct));
        Assert.Equal(2, h.UpstreamAttempts());
        Assert.Empty(await h.SettledAlertsAsync());
    }

    [Fact]
    public async Task Send_ShouldRetryFalse_NoRetry()
    {
        await using var h = IntegrationHarness.Create();
        Respond(h, 503, null, ("x-should-retry", "false"));

        await h.GetAsync();

        Assert.Equal(1, h.UpstreamAttempts());
    }

    [Fact]
    public async Task Send_BadResponse_NoRetryTypedFailureAndRawBodyLogged()
    {
        await using var h = IntegrationHarness.Create();
        Respond(h, 200, "<html><body>Service temporarily moved</body></html>");

        var (_, error) = await h.GetAsync();

        var failure = AssertFailure(error, FailureKind.BadResponse);
        Assert.Contains("text/html", failure.Classification.Reason, StringComparison.Ordinal);
        Assert.Equal(1, h.UpstreamAttempts());
        Assert.Contains(h.Logs.GetSnapshot(), r => r.Message.Contains("Service temporarily moved", StringComparison.Ordinal));
        Assert.Equal(AlertSeverity.Warning, Assert.Single(await h.SettledAlertsAsync()).Severity);
    }

    [Fact]
    public async Task Send_BadResponseRetriesConfigured_Retries()
    {
        await using var h = IntegrationHarness.Create(o => o.BadResponse.MaxRetries = 1);
        Respond(h, 200, """{"items":[1,2""");

        await h.GetAsync();

        Assert.Equal(2, h.UpstreamAttempts());
    }

    [Fact]
    public async Task Send_Rejected_NoRetryNoAlert()
    {
        await using var h = IntegrationHarness.Create();
        Respond(h, 400, """{"error":{"code":"context_length_exceeded"}}""");

        var (_, error) = await h.GetAsync();

        Assert.Equal("context_length_exceeded", AssertFailure(error, FailureKind.Rejected).Classification.ProviderCode);
        Assert.Equal(1, h.UpstreamAttempts());
        Assert.Empty(await h.SettledAlertsAsync());
    }

    [Fact]
    public async Task Send_ConnectionRefused_RetriedAsUnavailable()
    {
        using var refused = RefusedPort.Hold();
        await using var h = IntegrationHarness.Create(o => o.BaseAddress = refused.Url);

        var (_, error) = await h.GetAsync();

        var failure = AssertFailure(error, FailureKind.Unavailable);
        Assert.IsType<HttpRequestException>(failure.InnerException);
        Assert.Equal([TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2)], h.Clock.Waits);
    }

    [Fact]
    public async Task Send_UpstreamHangs_AttemptTimeoutRetriedOnceThenTimeout()
    {
        using var peer = RawHttpPeer.Hang();
        await using var h = IntegrationHarness.Create(o => o.BaseAddress = new Uri(peer.Url));
        var call = h.Client.GetAsync("/call", Ct);

        // Each attempt hangs until the attempt timeout: advance past it once the attempt's request has reached the
        // peer and its timeout (a timer Polly arms per attempt) is set to fire that long from now. A connection
        // accepted is not enough: an attempt cancelled before it sent its request leaves the connection to the next.
        for (int attempt = 1; attempt <= 2; attempt++)
        {
            await Eventually.WaitUntilAsync(() => peer.Requests >= attempt && h.Clock.HasWatchdogArmedFor(IntegrationHarness.AttemptTimeout));
            h.Clock.Advance(IntegrationHarness.AttemptTimeout);
            if (attempt == 1)
            {
                await Eventually.WaitUntilAsync(h.Clock.AdvanceToNextWait);
            }
        }

        var error = await Record.ExceptionAsync(() => call.WaitAsync(Eventually.Deadline, Ct));

        AssertFailure(error, FailureKind.Timeout);
        Assert.Equal(2, peer.Connections);
        Assert.Equal(2, peer.Requests);
        Assert.Equal(AlertSeverity.Warning, Assert.Single(await h.SettledAlertsAsync()).Severity);
    }

    [Fact]
    public async Task Send_BodyStallsAfterHeaders_AttemptTimeoutStillApplies()
    {
        using var peer = RawHttpPeer.StalledBody("""{"items":[1,""", declaredLength: 200);
        var headersIn = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var h = IntegrationHarness.Create(
            o =>
            {
                o.BaseAddress = new Uri(peer.Url);
                o.Timeout.MaxRetries = 0;
            },
            services: s => s.AddHttpClient(IntegrationHarness.Name).AddHttpMessageHandler(() => new HeadersSeen(headersIn)));
        var call = h.Client.GetAsync("/call", Ct);

        // Innermost, the handler sees the headers arrive: from then on only the body is outstanding.
        await headersIn.Task.WaitAsync(Eventually.Deadline, Ct);
        h.Clock.Advance(IntegrationHarness.AttemptTimeout);
        var error = await Record.ExceptionAsync(() => call.WaitAsync(Eventually.Deadline, Ct));

        AssertFailure(error, FailureKind.Timeout);
    }

    /// <summary>Added after the integration's own handlers, so next to the socket: completes once an attempt has its headers.</summary>
    private sealed class HeadersSeen(TaskCompletionSource seen) : DelegatingHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var response = await base.SendAsync(request, cancellationToken);
            seen.TrySetResult();
            return response;
        }
    }

    [Fact]
    public async Task Send_ShouldRetryTrueOnConflict_RetriedOnce()
    {
        await using var h = IntegrationHarness.Create();
        Respond(h, 409, """{"error":{"type":"conflict"}}""", ("x-should-retry", "true"));

        await h.GetAsync();

        Assert.Equal(2, h.UpstreamAttempts());
    }

    [Fact]
    public async Task Send_OverloadedWithRateLimitResetHeaders_RetriesOnBackoffNotResetWindow()
    {
        await using var h = IntegrationHarness.Create();
        Respond(h, 529, """{"type":"error","error":{"type":"overloaded_error"}}""",
            ("anthropic-ratelimit-tokens-remaining", "1000"), ("anthropic-ratelimit-tokens-reset", "2026-11-23T06:00:45Z"));

        await h.GetAsync();

        Assert.Equal(3, h.UpstreamAttempts());
        Assert.Equal([TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2)], h.Clock.Waits);
    }

    [Fact]
    public async Task Send_RetriedThenSucceeded_ResponseCarriesNoFailureLabel()
    {
        await using var h = IntegrationHarness.Create(o => o.ThrowOnFailure = false);
        h.Server.Given(Request.Create().WithPath("/call").UsingGet()).InScenario("x").WillSetStateTo("ok")
            .RespondWith(Response.Create().WithStatusCode(503));
        h.Server.Given(Request.Create().WithPath("/call").UsingGet()).InScenario("x").WhenStateIs("ok")
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json").WithBody("{}"));

        var (response, _) = await h.GetAsync();

        Assert.True(response!.IsSuccessStatusCode);
        Assert.False(response.GetFailureClassification().IsFailure);
    }

    [Fact]
    public async Task Send_CallerCancelsDuringBackoff_PropagatesCancellationWithoutFailure()
    {
        await using var h = IntegrationHarness.Create();
        Respond(h, 503);
        using var failures = h.Metric("resilient_integrations.failures");
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var call = h.Client.GetAsync("/call", cts.Token);
        await Eventually.WaitUntilAsync(() => h.Clock.Waits.Count == 1);

        await cts.CancelAsync();
        var error = await Record.ExceptionAsync(() => call);

        Assert.IsAssignableFrom<OperationCanceledException>(error);
        Assert.Equal(1, h.UpstreamAttempts());
        Assert.Empty(failures.GetMeasurementSnapshot());
        Assert.Empty(await h.SettledAlertsAsync());
    }

    [Fact]
    public async Task Send_ThrowOnFailureOff_ReturnsResponseWithClassification()
    {
        await using var h = IntegrationHarness.Create(o => o.ThrowOnFailure = false);
        Respond(h, 404, """{"error":{"code":"not_found"}}""");

        var (response, error) = await h.GetAsync();

        Assert.Null(error);
        Assert.Equal(HttpStatusCode.NotFound, response!.StatusCode);
        var classification = response.GetFailureClassification();
        Assert.Equal(FailureKind.Rejected, classification.Kind);
        Assert.Equal("not_found", classification.ProviderCode);
    }

    [Fact]
    public async Task Send_Success_ClassificationIsSuccessAndNoWaits()
    {
        await using var h = IntegrationHarness.Create();
        Respond(h, 200, """{"ok":true}""");

        var (response, _) = await h.GetAsync();

        Assert.False(response!.GetFailureClassification().IsFailure);
        Assert.Empty(h.Clock.Waits);
        Assert.Equal(1, h.UpstreamAttempts());
    }
}
