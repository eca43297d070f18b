using Microsoft.Extensions.DependencyInjection;
using Polly.CircuitBreaker;
using Resilient.Integrations.Alerts;
using Resilient.Integrations.Classification;
using Resilient.Integrations.Policies;
using Resilient.Integrations.Testing;
using Resilient.Integrations.Tests.Support;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;

namespace Resilient.Integrations.Tests.Policies;

public sealed class CircuitBreakerTests
{
    private static IntegrationHarness Create() => IntegrationHarness.Create(o =>
    {
        // No retries and no budget: every logical call is exactly one upstream attempt.
        o.Unavailable.MaxRetries = 0;
        o.RateLimit.MaxRetries = 0;
        o.Timeout.MaxRetries = 0;
        o.CircuitBreaker.MinimumThroughput = 5;
        o.CircuitBreaker.FailureRatio = 0.5;
    });

    private static void Respond(IntegrationHarness h, int status, params (string, string)[] headers)
    {
        var response = Response.Create().WithStatusCode(status);
        foreach (var (name, value) in headers)
        {
            response = response.WithHeader(name, value);
        }

        h.Server.Given(Request.Create().WithPath("/call").UsingGet()).RespondWith(response);
    }

    [Fact]
    public async Task Send_RateLimitStorm_DoesNotOpenCircuit()
    {
        await using var h = Create();
        Respond(h, 429);

        for (int i = 0; i < 20; i++)
        {
            var (_, error) = await h.GetAsync();
            Assert.Equal(FailureKind.RateLimit, Assert.IsType<IntegrationFailureException>(error).Kind);
        }

        Assert.Equal(20, h.UpstreamAttempts());
        Assert.Equal(CircuitState.Closed, CircuitOf(h));
    }

    [Fact]
    public async Task Send_AuthStorm_DoesNotOpenCircuit()
    {
        await using var h = Create();
        Respond(h, 401);

        for (int i = 0; i < 12; i++)
        {
            await h.GetAsync();
        }

        Assert.Equal(12, h.UpstreamAttempts());
        Assert.Equal(CircuitState.Closed, CircuitOf(h));
    }

    [Fact]
    public async Task Send_UnavailableStorm_OpensCircuitThenFailsFastWithoutUpstream()
    {
        await using var h = Create();
        Respond(h, 503);

        for (int i = 0; i < 5; i++)
        {
            await h.GetAsync();
        }

        Assert.Equal(CircuitState.Open, CircuitOf(h));
        for (int i = 0; i < 10; i++)
        {
            var (_, error) = await h.GetAsync();
            var failure = Assert.IsType<IntegrationFailureException>(error);
            Assert.Equal(FailureKind.Unavailable, failure.Kind);
            Assert.Equal("circuit open", failure.Classification.Reason);
        }

        Assert.Equal(5, h.UpstreamAttempts());
        var alerts = await h.Alerts.WaitForAsync(2);
        Assert.Contains(alerts, a => a.Severity == AlertSeverity.Critical && a.Kind == FailureKind.Unavailable);
    }

    [Fact]
    public async Task Send_HealthAlreadyRedWhenTheCircuitOpens_CircuitOpenedAlertStillDelivered()
    {
        await using var h = Create();
        Respond(h, 503);

        for (int i = 0; i < 5; i++)
        {
            await h.GetAsync();                                     // Red from the second 503, the circuit open at the fifth
        }

        Assert.Equal(CircuitState.Open, CircuitOf(h));
        var alerts = await h.SettledAlertsAsync();
        var red = Assert.Single(alerts, a => a.Message.StartsWith("is Red", StringComparison.Ordinal));
        var circuit = Assert.Single(alerts, a => a.Message.StartsWith("circuit opened", StringComparison.Ordinal));
        Assert.Equal((AlertSeverity.Critical, FailureKind.Unavailable), (red.Severity, red.Kind));
        Assert.Equal((AlertSeverity.Critical, FailureKind.Unavailable), (circuit.Severity, circuit.Kind));
        Assert.True(alerts.ToList().IndexOf(red) < alerts.ToList().IndexOf(circuit));
    }

    [Fact]
    public async Task Send_CircuitOpenWithRetries_NotRetried()
    {
        await using var h = IntegrationHarness.Create(o =>
        {
            o.CircuitBreaker.MinimumThroughput = 2;
            o.CircuitBreaker.FailureRatio = 0.5;
        });
        Respond(h, 503);

        await h.GetAsync(); // opens the circuit during its retries
        int afterFirst = h.UpstreamAttempts();
        int waitsAfterFirst = h.Clock.Waits.Count;
        var (_, error) = await h.GetAsync();

        Assert.Equal(FailureKind.Unavailable, Assert.IsType<IntegrationFailureException>(error).Kind);
        Assert.Equal(afterFirst, h.UpstreamAttempts());
        Assert.Equal(waitsAfterFirst, h.Clock.Waits.Count); // no backoff was started for the open circuit
    }

    [Fact]
    public async Task Send_AfterBreakDuration_CircuitLetsTrialThroughAndCloses()
    {
        await using var h = Create();
        Respond(h, 503);
        for (int i = 0; i < 5; i++)
        {
            await h.GetAsync();
        }

        h.Server.Reset();
        h.Server.Given(Request.Create().WithPath("/call").UsingGet())
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json").WithBody("{}"));
        h.Clock.Advance(TimeSpan.FromSeconds(31));

        var (response, error) = await h.GetAsync();

        Assert.Null(error);
        Assert.True(response!.IsSuccessStatusCode);
        Assert.Equal(CircuitState.Closed, CircuitOf(h));
    }

    [Fact]
    public async Task ConfigurationReload_UnrelatedKey_KeepsOpenCircuit()
    {
        var settings = new Dictionary<string, string?>
        {
            ["ResilientIntegrations:crm:Unavailable:MaxRetries"] = "0",
            ["ResilientIntegrations:crm:CircuitBreaker:MinimumThroughput"] = "3",
            ["Logging:LogLevel:Default"] = "Information",
        };
        await using var h = IntegrationHarness.Create(configuration: settings);
        Respond(h, 503);
        for (int i = 0; i < 3; i++)
        {
            await h.GetAsync();
        }

        var config = (Microsoft.Extensions.Configuration.IConfigurationRoot)h.Provider.GetRequiredService<Microsoft.Extensions.Configuration.IConfiguration>();
        config["Logging:LogLevel:Default"] = "Debug";
        config.Reload();
        await h.GetAsync();

        Assert.Equal(3, h.UpstreamAttempts());
    }

    [Fact]
    public async Task Send_ProbeCancelledWhileTheSharedBudgetAnswers_CircuitClosesInsteadOfStayingHalfOpen()
    {
        var budget = new StallingBudget();
        await using var h = IntegrationHarness.Create(
            o =>
            {
                o.Unavailable.MaxRetries = 0;
                o.CircuitBreaker.MinimumThroughput = 2;
                o.CircuitBreaker.FailureRatio = 0.5;
                o.CircuitBreaker.BreakDuration = TimeSpan.FromSeconds(30);
                o.Fallback.Enabled = false;
            },
            services: s => s.AddSingleton<ISharedRateBudget>(budget));
        var budgeted = Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json").WithBody("{}")
            .WithHeader("x-ratelimit-limit-requests", "100").WithHeader("x-ratelimit-remaining-requests", "99").WithHeader("x-ratelimit-reset-requests", "1s");
        h.Server.Given(Request.Create().WithPath("/call")).InScenario("p").WillSetStateTo("down").RespondWith(budgeted);
        h.Server.Given(Request.Create().WithPath("/call")).InScenario("p").WhenStateIs("down").RespondWith(Response.Create().WithStatusCode(503));
        await h.GetAsync(); // the provider reports a budget: the shared budget is consulted from now on
        await h.GetAsync();
        await h.GetAsync();
        Assert.Equal(CircuitState.Open, CircuitOf(h));

        // The break is over: the next call is the probe, and its caller gives up while the shared budget has not answered.
        h.Clock.Advance(TimeSpan.FromSeconds(30));
        budget.Stall = true;
        using var caller = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        var probe = h.Client.GetAsync("/call", caller.Token);
        await budget.Stalled.Task.WaitAsync(Eventually.Deadline, TestContext.Current.CancellationToken);
        await caller.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => probe);

        budget.Stall = false;
        h.Server.Reset();
        h.Server.Given(Request.Create().WithPath("/call")).RespondWith(budgeted);
        var (response, error) = await h.GetAsync();

        // The cancelled probe was counted (a caller's cancellation says nothing about the service): closed, not stuck half-open.
        Assert.Null(error);
        Assert.True(response!.IsSuccessStatusCode);
        Assert.Equal(1, h.UpstreamAttempts());
        Assert.Equal(CircuitState.Closed, CircuitOf(h));
    }

    [Theory]
    [InlineData(false)] // the one circuit, in the attempt step
    [InlineData(true)] // a circuit per host, Polly's breaker
    public async Task Send_RuleThrowsOnTheProbe_ProbeCountedAndTheNextProbeAdmitted(bool perHost)
    {
        using var refused = RefusedPort.Hold();
        bool ruleThrows = false;
        await using var h = IntegrationHarness.Create(
            o =>
            {
                o.BaseAddress = refused.Url;
                o.Unavailable.MaxRetries = 0;
                o.CircuitBreaker.MinimumThroughput = 2;
                o.CircuitBreaker.FailureRatio = 0.5;
                o.CircuitBreaker.BreakDuration = TimeSpan.FromSeconds(30);
                o.CircuitBreaker.PerHost = perHost;
                o.Fallback.Enabled = false;
            },
            build: b => b.AddFailureRule(FailureRule.ForException<HttpRequestException>(
                FailureKind.Unavailable, _ => ruleThrows ? throw new InvalidOperationException("the rule's own bug") : true)));
        await h.GetAsync();
        await h.GetAsync();
        Assert.Equal(CircuitState.Open, CircuitOf(h));

        // The probe fails, and the user's rule that judges its failure throws.
        h.Clock.Advance(TimeSpan.FromSeconds(30));
        ruleThrows = true;
        var (_, probeError) = await h.GetAsync();
        Assert.NotNull(probeError);
        ruleThrows = false;

        // Counted as a failure: the circuit broke again, and once that break is over the next probe goes out.
        Assert.Equal(CircuitState.Open, CircuitOf(h));
        h.Clock.Advance(TimeSpan.FromSeconds(30));
        var (_, error) = await h.GetAsync();

        var failure = Assert.IsType<IntegrationFailureException>(error);
        Assert.IsType<HttpRequestException>(failure.InnerException);
    }

    private static CircuitState CircuitOf(IntegrationHarness h)
    {
        var registry = h.Provider.GetRequiredService<Resilient.Integrations.Policies.Internal.IntegrationRegistry>();
        return registry.Get(IntegrationHarness.Name).CircuitState!.Value;
    }

    /// <summary>A shared budget that admits at once, or, while <see cref="Stall"/> is set, does not answer until the call gives up.</summary>
    private sealed class StallingBudget : ISharedRateBudget
    {
        public volatile bool Stall;

        public TaskCompletionSource Stalled { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TimeSpan Timeout => TimeSpan.FromHours(1);

        public async ValueTask<RateBudgetGrant> TakeAsync(RateBudgetRequest request, CancellationToken cancellationToken)
        {
            if (Stall)
            {
                Stalled.TrySetResult();
                await Task.Delay(System.Threading.Timeout.InfiniteTimeSpan, cancellationToken);
            }

            return new RateBudgetGrant(true, TimeSpan.Zero, 1, 0);
        }

        public ValueTask ReportAsync(RateBudgetReport report, CancellationToken cancellationToken) => default;

        public void OnHold(Action<RateBudgetHold> onHold)
        {
        }
    }
}
