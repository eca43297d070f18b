using Resilient.Integrations.Classification;
using Resilient.Integrations.Fallback;
using Resilient.Integrations.Tests.Support;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using Resilient.Integrations.Internal;

namespace Resilient.Integrations.Tests.Policies;

public sealed class PacingTests
{
    [Fact]
    public async Task Send_RemainingZero_HoldsNextRequestUntilReset()
    {
        await using var h = IntegrationHarness.Create();
        h.Server.Given(Request.Create().WithPath("/call").UsingGet())
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json").WithBody("{}")
                .WithHeader("x-ratelimit-remaining-requests", "0").WithHeader("x-ratelimit-reset-requests", "2s"));

        await h.GetAsync();
        Assert.Empty(h.Clock.Waits);
        var (response, error) = await h.GetAsync();

        Assert.Null(error);
        Assert.True(response!.IsSuccessStatusCode);
        Assert.Equal([ServerHint.Wait(TimeSpan.FromSeconds(2))], h.Clock.Waits);
        Assert.Equal(2, h.UpstreamAttempts());
    }

    [Theory]
    [InlineData("X-RateLimit-Remaining", "X-RateLimit-Reset", true)]  // GitHub, SendGrid: epoch seconds
    [InlineData("X-RateLimit-Remaining", "X-RateLimit-Reset", false)] // others: seconds to wait
    [InlineData("RateLimit-Remaining", "RateLimit-Reset", false)]     // the older IETF draft
    public async Task Send_SharedDialectRemainingZero_HoldsNextRequestUntilReset(string remaining, string reset, bool epoch)
    {
        await using var h = IntegrationHarness.Create();
        string value = epoch ? h.Clock.GetUtcNow().AddSeconds(4).ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture) : "4";
        h.Server.Given(Request.Create().WithPath("/call").UsingGet())
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json").WithBody("{}")
                .WithHeader(remaining, "0").WithHeader(reset, value));

        await h.GetAsync();
        await h.GetAsync();

        Assert.Equal([ServerHint.Wait(TimeSpan.FromSeconds(4))], h.Clock.Waits);
        Assert.Equal(2, h.UpstreamAttempts());
    }

    [Fact]
    public async Task Send_IetfStructuredRemainingZero_HoldsNextRequestUntilReset()
    {
        await using var h = IntegrationHarness.Create();
        h.Server.Given(Request.Create().WithPath("/call").UsingGet())
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json").WithBody("{}")
                .WithHeader("RateLimit", "\"default\";r=0;t=5").WithHeader("RateLimit-Policy", "\"default\";q=100;w=60"));

        await h.GetAsync();
        await h.GetAsync();

        Assert.Equal([ServerHint.Wait(TimeSpan.FromSeconds(5))], h.Clock.Waits);
    }

    [Fact]
    public async Task Send_AnthropicRemainingZero_HoldsNextRequestUntilReset()
    {
        await using var h = IntegrationHarness.Create();
        string reset = h.Clock.GetUtcNow().AddSeconds(3).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture);
        h.Server.Given(Request.Create().WithPath("/call").UsingGet())
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json").WithBody("{}")
                .WithHeader("anthropic-ratelimit-tokens-remaining", "0").WithHeader("anthropic-ratelimit-tokens-reset", reset));

        await h.GetAsync();
        await h.GetAsync();

        Assert.Equal([ServerHint.Wait(TimeSpan.FromSeconds(3))], h.Clock.Waits);
    }

    [Theory]
    [InlineData(true, 0)]
    [InlineData(false, 1)]
    public async Task Send_ProviderReportsItsRequestBudget_SpacedAtItsRefillRateWithout429s(bool reportBudget, int minimumRefused)
    {
        await using var h = IntegrationHarness.Create();
        var quota = new Resilient.Integrations.Testing.TokenBucketQuota(3, TimeSpan.FromSeconds(1), h.Clock);
        Resilient.Integrations.Testing.UpstreamFaults.InjectTokenBucket(h.Server, "/call", quota, reportBudget);

        for (int i = 0; i < 8; i++)
        {
            var (response, error) = await h.GetAsync();
            Assert.Null(error);
            Assert.Null(response!.GetDegradation());
        }

        Assert.Equal(8, quota.Accepted);
        Assert.InRange(quota.Refused, minimumRefused, reportBudget ? 0 : 8);
        if (reportBudget)
        {
            // Once the budget is learned, requests are spaced at the refill rate: each waits less than the 3 s it
            // takes the spent bucket to fill again, which is all a client without spacing could wait for.
            var waits = h.Clock.Waits;
            Assert.True(waits.Count > 1, string.Join(", ", waits));
            Assert.All(waits.Skip(1), w => Assert.True(w < TimeSpan.FromSeconds(3), string.Join(", ", waits)));
        }
    }

    [Fact]
    public async Task Send_RemainingAboveZero_DoesNotHold()
    {
        await using var h = IntegrationHarness.Create();
        h.Server.Given(Request.Create().WithPath("/call").UsingGet())
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json").WithBody("{}")
                .WithHeader("x-ratelimit-remaining-requests", "5").WithHeader("x-ratelimit-reset-requests", "2s"));

        await h.GetAsync();
        await h.GetAsync();

        Assert.Empty(h.Clock.Waits);
    }

    [Fact]
    public async Task Send_After429WithHint_NextCallerIsHeldInsteadOfSentIntoAnother429()
    {
        await using var h = IntegrationHarness.Create(o => o.RateLimit.MaxRetries = 0);
        h.Server.Given(Request.Create().WithPath("/call").UsingGet()).InScenario("p").WillSetStateTo("ok")
            .RespondWith(Response.Create().WithStatusCode(429).WithHeader("retry-after-ms", "4000"));
        h.Server.Given(Request.Create().WithPath("/call").UsingGet()).InScenario("p").WhenStateIs("ok")
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json").WithBody("{}"));

        var (_, first) = await h.GetAsync();
        var (second, error) = await h.GetAsync();

        Assert.Equal(FailureKind.RateLimit, Assert.IsType<IntegrationFailureException>(first).Kind);
        Assert.Null(error);
        Assert.True(second!.IsSuccessStatusCode);
        Assert.Equal([ServerHint.Wait(TimeSpan.FromSeconds(4))], h.Clock.Waits);
        Assert.Equal(2, h.UpstreamAttempts());
    }

    [Fact]
    public async Task Send_HoldLongerThanTimeLeft_FailsAtOnceAsRateLimitWithoutUpstream()
    {
        await using var h = IntegrationHarness.Create(o =>
        {
            o.RateLimit.MaxRetries = 0;
            o.TotalTimeout = TimeSpan.FromSeconds(40);
            o.Fallback.Enabled = false;
        });
        h.Clock.Deadlines.Add(TimeSpan.FromSeconds(40));
        h.Server.Given(Request.Create().WithPath("/call").UsingGet())
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json").WithBody("{}")
                .WithHeader("x-ratelimit-remaining-tokens", "0").WithHeader("x-ratelimit-reset-tokens", "6m0s"));

        await h.GetAsync();
        var (_, error) = await h.GetAsync();

        var failure = Assert.IsType<IntegrationFailureException>(error);
        Assert.Equal(FailureKind.RateLimit, failure.Kind);
        Assert.Equal(TimeSpan.FromMinutes(1), failure.Classification.RetryAfter); // the 6 min reset, capped at Pacing.MaxWait
        Assert.Equal(1, h.UpstreamAttempts());
        Assert.Empty(h.Clock.Waits);
    }

    [Fact]
    public async Task Send_AbsurdHint_HoldCappedAtMaxWaitSoIntegrationIsNotLockedOut()
    {
        await using var h = IntegrationHarness.Create(o =>
        {
            o.RateLimit.MaxRetries = 0;
            o.Fallback.Enabled = false;
        });
        h.Server.Given(Request.Create().WithPath("/call").UsingGet()).InScenario("p").WillSetStateTo("ok")
            .RespondWith(Response.Create().WithStatusCode(429).WithHeader("Retry-After", "86400"));
        h.Server.Given(Request.Create().WithPath("/call").UsingGet()).InScenario("p").WhenStateIs("ok")
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json").WithBody("{}"));

        await h.GetAsync();
        var (response, error) = await h.GetAsync();

        Assert.Null(error);
        Assert.True(response!.IsSuccessStatusCode);
        Assert.Equal([TimeSpan.FromSeconds(60)], h.Clock.Waits);
    }

    [Fact]
    public async Task Send_PacingDisabled_DoesNotHold()
    {
        await using var h = IntegrationHarness.Create(o => o.Pacing.Enabled = false);
        h.Server.Given(Request.Create().WithPath("/call").UsingGet())
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json").WithBody("{}")
                .WithHeader("x-ratelimit-remaining-requests", "0").WithHeader("x-ratelimit-reset-requests", "2s"));

        await h.GetAsync();
        await h.GetAsync();

        Assert.Empty(h.Clock.Waits);
    }
}
