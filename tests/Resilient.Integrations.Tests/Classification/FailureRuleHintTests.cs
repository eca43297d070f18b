using Resilient.Integrations.Classification;
using Microsoft.Extensions.DependencyInjection;
using Resilient.Integrations.Tests.Support;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using Resilient.Integrations.Internal;

namespace Resilient.Integrations.Tests.Classification;

/// <summary>Rules that say how long to wait, for an API the library does not know.</summary>
public sealed class FailureRuleHintTests : ClassifierTestBase
{
    [Fact]
    public async Task ClassifyAsync_RuleWithHeaderHint_ReadsTheHeader()
    {
        Respond(409, """{"error":"busy"}""", headers: ("X-Retry-In", "90"));
        var classifier = CreateClassifier(o => o.Rules.Add(FailureRule.ForStatus(409, FailureKind.RateLimit).WithRetryAfterHeader("X-Retry-In")));

        var classification = await CallAndClassifyAsync(classifier);

        Assert.Equal(FailureKind.RateLimit, classification.Kind);
        Assert.Equal(TimeSpan.FromSeconds(90), classification.RetryAfter);
        Assert.True(classification.RetryMayHelp);
    }

    [Fact]
    public async Task ClassifyAsync_RuleWithEpochHeaderHint_MeasuredAgainstTheInjectedClock()
    {
        Respond(409, """{"error":"busy"}""", headers: ("X-Busy-Until", (Now + TimeSpan.FromMinutes(5)).ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture)));
        var classifier = CreateClassifier(o => o.Rules.Add(FailureRule.ForStatus(409, FailureKind.RateLimit).WithRetryAfterHeader("X-Busy-Until")));

        var classification = await CallAndClassifyAsync(classifier);

        Assert.Equal(TimeSpan.FromMinutes(5), classification.RetryAfter);
    }

    [Fact]
    public async Task ClassifyAsync_RuleWithBodyMemberHint_ReadsTheLargestMemberInItsUnit()
    {
        Respond(400, """{"error":{"code":"throttled","limits":[{"wait_minutes":1},{"wait_minutes":3}]}}""");
        var classifier = CreateClassifier(o => o.Rules.Add(
            FailureRule.ForStatus(400, FailureKind.RateLimit).WhenBody(b => b.Contains("throttled", StringComparison.Ordinal)).WithRetryAfterBodyMember("wait_minutes", TimeSpan.FromMinutes(1))));

        var classification = await CallAndClassifyAsync(classifier);

        Assert.Equal(FailureKind.RateLimit, classification.Kind);
        Assert.Equal(TimeSpan.FromMinutes(3), classification.RetryAfter);
    }

    [Fact]
    public async Task ClassifyAsync_RuleWithFunctionHint_SeesStatusHeadersAndBody()
    {
        Respond(503, """{"state":"maintenance","back_in":"2m"}""", headers: ("X-Region", "eu"));
        FailureRuleAnswer seen = default;
        var classifier = CreateClassifier(o => o.Rules.Add(FailureRule.ForStatus(503, FailureKind.Unavailable).WithRetryAfter(a =>
        {
            seen = a;
            return a.Header("X-Region") == "eu" && a.Body!.Contains("\"2m\"", StringComparison.Ordinal) ? TimeSpan.FromMinutes(2) : null;
        })));

        var classification = await CallAndClassifyAsync(classifier);

        Assert.Equal(TimeSpan.FromMinutes(2), classification.RetryAfter);
        Assert.Equal(503, seen.StatusCode);
        Assert.Equal(Now, seen.Now);
    }

    [Fact]
    public async Task ClassifyAsync_RuleHintMissing_ServerHintStays()
    {
        Respond(429, """{"error":"slow"}""", headers: ("Retry-After", "4"));
        var classifier = CreateClassifier(o => o.Rules.Add(FailureRule.ForStatus(429, FailureKind.RateLimit).WithRetryAfterHeader("X-Absent")));

        var classification = await CallAndClassifyAsync(classifier);

        Assert.Equal(TimeSpan.FromSeconds(4), classification.RetryAfter);
    }

    [Fact]
    public async Task Send_RuleWithHint_IntegrationWaitsTheRuleHintOnceThenSucceeds()
    {
        await using var h = IntegrationHarness.Create(build: b => b.AddFailureRule(FailureRule.ForStatus(409, FailureKind.RateLimit).WithRetryAfterHeader("X-Retry-In")));
        h.Server.Given(Request.Create().WithPath("/call")).InScenario("busy").WillSetStateTo("free").RespondWith(
            Response.Create().WithStatusCode(409).WithHeader("Content-Type", "application/json").WithHeader("X-Retry-In", "7").WithBody("""{"error":"busy"}"""));
        h.Server.Given(Request.Create().WithPath("/call")).InScenario("busy").WhenStateIs("free").RespondWith(
            Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json").WithBody("{}"));

        var (response, error) = await h.GetAsync();

        Assert.Null(error);
        Assert.True(response!.IsSuccessStatusCode);
        Assert.Equal(2, h.UpstreamAttempts());
        Assert.Equal([ServerHint.Wait(TimeSpan.FromSeconds(7))], h.Clock.Waits);
    }

    [Fact]
    public void WithRetryAfterBodyMember_NonPositiveUnit_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => FailureRule.ForStatus(429, FailureKind.RateLimit).WithRetryAfterBodyMember("wait", TimeSpan.Zero));
    }
}
