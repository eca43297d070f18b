using Resilient.Integrations.Classification;
using Resilient.Integrations.Tests.Support;

namespace Resilient.Integrations.Tests.Classification;

public sealed class FailureRuleTests : ClassifierTestBase
{
    [Fact]
    public async Task ClassifyAsync_StatusRule_RunsBeforeDefaults()
    {
        Respond(503, null);
        var classifier = CreateClassifier(o => o.Rules.Add(FailureRule.ForStatus(503, FailureKind.Rejected)));

        var result = await CallAndClassifyAsync(classifier);

        Assert.Equal(FailureKind.Rejected, result.Kind);
        Assert.False(result.RetryMayHelp);
    }

    [Fact]
    public async Task ClassifyAsync_RuleWithKindNone_MarksOutcomeAsSuccess()
    {
        Respond(404, """{"error":{"code":"not_found"}}""");
        var classifier = CreateClassifier(o => o.Rules.Add(FailureRule.ForStatus(404, FailureKind.None)));

        Assert.False((await CallAndClassifyAsync(classifier)).IsFailure);
    }

    [Fact]
    public async Task ClassifyAsync_HeaderRule_MatchesHeaderValue()
    {
        Respond(429, null, headers: ("x-daily-quota-remaining", "0"));
        var classifier = CreateClassifier(o => o.Rules.Add(
            FailureRule.ForHeader("X-Daily-Quota-Remaining", v => v == "0", FailureKind.QuotaExhausted)));

        var result = await CallAndClassifyAsync(classifier);

        Assert.Equal(FailureKind.QuotaExhausted, result.Kind);
    }

    [Fact]
    public async Task ClassifyAsync_HeaderRuleNotMatching_FallsBackToDefaults()
    {
        Respond(429, null, headers: ("x-daily-quota-remaining", "17"));
        var classifier = CreateClassifier(o => o.Rules.Add(
            FailureRule.ForHeader("x-daily-quota-remaining", v => v == "0", FailureKind.QuotaExhausted)));

        Assert.Equal(FailureKind.RateLimit, (await CallAndClassifyAsync(classifier)).Kind);
    }

    [Fact]
    public async Task ClassifyAsync_BodyRuleOnSuccess_ClassifiesAndKeepsBody()
    {
        string body = """{"status":"maintenance","items":[]}""";
        Respond(200, body);
        var classifier = CreateClassifier(o => o.Rules.Add(
            FailureRule.ForBody(b => b.Contains("\"maintenance\"", StringComparison.Ordinal), FailureKind.Unavailable).WithProviderCode("maintenance")));
        using var response = await CallAsync(HttpCompletionOption.ResponseHeadersRead);

        var result = await classifier.ClassifyAsync(response, Ct);

        Assert.Equal(FailureKind.Unavailable, result.Kind);
        Assert.Equal("maintenance", result.ProviderCode);
        Assert.Equal(body, await response.Content.ReadAsStringAsync(Ct));
    }

    [Fact]
    public async Task ClassifyAsync_BodyRule_SeesOnlyBoundedPrefix()
    {
        Respond(400, new string(' ', 5_000) + "MARKER");
        var rule = FailureRule.ForBody(b => b.Contains("MARKER", StringComparison.Ordinal), FailureKind.Auth);

        var bounded = await CallAndClassifyAsync(CreateClassifier(o => o.Rules.Add(rule)));
        var wider = await CallAndClassifyAsync(CreateClassifier(o => { o.Rules.Add(rule); o.MaxErrorBodyBytes = 8192; }));

        Assert.Equal(FailureKind.Rejected, bounded.Kind);
        Assert.Equal(FailureKind.Auth, wider.Kind);
    }

    [Fact]
    public async Task ClassifyAsync_StatusAndBodyRule_NeedsBoth()
    {
        Respond(400, """{"error":{"code":"model_overloaded"}}""");
        var rule = FailureRule.ForStatus(400, FailureKind.Unavailable).WhenBody(b => b.Contains("model_overloaded", StringComparison.Ordinal));
        var otherStatus = FailureRule.ForStatus(422, FailureKind.Unavailable).WhenBody(b => b.Contains("model_overloaded", StringComparison.Ordinal));

        Assert.Equal(FailureKind.Unavailable, (await CallAndClassifyAsync(CreateClassifier(o => o.Rules.Add(rule)))).Kind);
        Assert.Equal(FailureKind.Rejected, (await CallAndClassifyAsync(CreateClassifier(o => o.Rules.Add(otherStatus)))).Kind);
    }

    [Fact]
    public async Task ClassifyAsync_RuleRetryOverride_BeatsServerShouldRetry()
    {
        Respond(503, null, headers: ("x-should-retry", "true"));
        var classifier = CreateClassifier(o => o.Rules.Add(FailureRule.ForStatus(503, FailureKind.Unavailable).WithRetryMayHelp(false)));

        Assert.False((await CallAndClassifyAsync(classifier)).RetryMayHelp);
    }

    [Fact]
    public async Task ClassifyAsync_FirstMatchingRuleWins()
    {
        Respond(418, null);
        var classifier = CreateClassifier(o =>
        {
            o.Rules.Add(FailureRule.ForStatus(418, FailureKind.RateLimit));
            o.Rules.Add(FailureRule.ForStatus(418, FailureKind.Auth));
        });

        Assert.Equal(FailureKind.RateLimit, (await CallAndClassifyAsync(classifier)).Kind);
    }

    [Fact]
    public void Classify_ExceptionRule_MatchesTypeAndPredicate()
    {
        var classifier = CreateClassifier(o => o.Rules.Add(
            FailureRule.ForException<CrmSessionException>(FailureKind.Auth, e => e.Code == "INVALID_SESSION_ID")));

        Assert.Equal(FailureKind.Auth, classifier.Classify(new CrmSessionException("INVALID_SESSION_ID"), Ct).Kind);
        Assert.Equal(FailureKind.Unknown, classifier.Classify(new CrmSessionException("OTHER"), Ct).Kind);
    }

    [Fact]
    public void Classify_ExceptionRule_DoesNotTurnCallerCancellationIntoFailure()
    {
        var classifier = CreateClassifier(o => o.Rules.Add(FailureRule.ForException<OperationCanceledException>(FailureKind.Timeout)));
        using var cts = new CancellationTokenSource();
        cts.Cancel();

        Assert.True(classifier.Classify(new OperationCanceledException(cts.Token), cts.Token).IsCancellation);
    }

    [Fact]
    public void WhenStatus_OnExceptionRule_Throws()
    {
        var rule = FailureRule.ForException<TimeoutException>(FailureKind.Timeout);

        Assert.Throws<InvalidOperationException>(() => rule.WhenStatus(500));
    }

    [Fact]
    public void ForStatus_OutOfRange_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => FailureRule.ForStatus(99, FailureKind.Rejected));
    }

    [Fact]
    public void Classify_ExceptionCarryingAQuotaAnswer_ClassifiedLikeTheAnswer()
    {
        var classifier = CreateClassifier(o => o.Rules.Add(FailureRule.ForExceptionResponse<SdkApiException>(e => e.Status, e => e.Body)));

        var result = classifier.Classify(new SdkApiException(System.Net.HttpStatusCode.TooManyRequests,
            """{"error":{"message":"You exceeded your current quota","type":"insufficient_quota","code":"insufficient_quota"}}"""), TestContext.Current.CancellationToken);

        Assert.Equal(FailureKind.QuotaExhausted, result.Kind);
        Assert.Equal("insufficient_quota", result.ProviderCode);
        Assert.Equal(System.Net.HttpStatusCode.TooManyRequests, result.StatusCode);
    }

    [Fact]
    public void Classify_ExceptionCarryingAnAnswer_HostBodyRulesApplyAndHintsAreRead()
    {
        var classifier = CreateClassifier(o =>
        {
            o.Rules.Add(FailureRule.ForStatus(400, FailureKind.Auth).WhenBody(b => b.Contains("API_KEY_INVALID", StringComparison.Ordinal)));
            o.Rules.Add(FailureRule.ForExceptionResponse<SdkApiException>(e => e.Status, e => e.Body));
        });

        var badKey = classifier.Classify(new SdkApiException(System.Net.HttpStatusCode.BadRequest, """{"error":{"status":"INVALID_ARGUMENT","details":[{"reason":"API_KEY_INVALID"}]}}"""), TestContext.Current.CancellationToken);
        var limited = classifier.Classify(new SdkApiException(System.Net.HttpStatusCode.TooManyRequests, """{"error":{"status":"RESOURCE_EXHAUSTED","details":[{"retryDelay":"12s"}]}}"""), TestContext.Current.CancellationToken);
        var noStatus = classifier.Classify(new SdkApiException(null, null), TestContext.Current.CancellationToken);

        Assert.Equal(FailureKind.Auth, badKey.Kind);
        Assert.Equal(FailureKind.RateLimit, limited.Kind);
        Assert.Equal(TimeSpan.FromSeconds(12), limited.RetryAfter);
        Assert.Equal(FailureKind.Unknown, noStatus.Kind);
    }

    private sealed class SdkApiException(System.Net.HttpStatusCode? status, string? body) : Exception("sdk failure")
    {
        public System.Net.HttpStatusCode? Status { get; } = status;

        public string? Body { get; } = body;
    }

    private sealed class CrmSessionException(string code) : Exception(code)
    {
        public string Code { get; } = code;
    }
}
