using Resilient.Integrations.Classification;
using Resilient.Integrations.Tests.Support;

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
    public void WithRetryAfterBodyMember_NonPositiveUnit_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => FailureRule.ForStatus(429, FailureKind.RateLimit).WithRetryAfterBodyMember("wait", TimeSpan.Zero));
    }
}
