using System.Net;
using Resilient.Integrations.Classification;
using Resilient.Integrations.Tests.Support;

namespace Resilient.Integrations.Tests.Classification;

public sealed class FailureClassifierStatusTests : ClassifierTestBase
{
    public static TheoryData<int, string?, FailureKind, bool> StatusRows => new()
    {
        { 200, """{"ok":true}""", FailureKind.None, false },
        { 201, """{"id":"c-1"}""", FailureKind.None, false },
        { 204, null, FailureKind.None, false },
        { 304, null, FailureKind.None, false },
        { 408, null, FailureKind.Timeout, true },
        { 504, "<html>Gateway Timeout</html>", FailureKind.Timeout, true },
        { 401, """{"error":{"message":"Incorrect API key","type":"invalid_request_error","code":"invalid_api_key"}}""", FailureKind.Auth, false },
        { 403, """{"type":"error","error":{"type":"permission_error","message":"no access"}}""", FailureKind.Auth, false },
        { 429, """{"error":{"message":"Rate limit reached","type":"requests","code":"rate_limit_exceeded"}}""", FailureKind.RateLimit, true },
        { 500, """{"type":"error","error":{"type":"api_error","message":"Internal"}}""", FailureKind.Unavailable, true },
        { 502, "Bad Gateway", FailureKind.Unavailable, true },
        { 503, null, FailureKind.Unavailable, true },
        { 529, """{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}""", FailureKind.Unavailable, true },
        { 400, """{"error":{"message":"too long","type":"invalid_request_error","code":"context_length_exceeded"}}""", FailureKind.Rejected, false },
        { 404, null, FailureKind.Rejected, false },
        { 422, """{"message":"Validation failed"}""", FailureKind.Rejected, false },
        { 501, null, FailureKind.Rejected, false },
    };

    [Theory]
    [MemberData(nameof(StatusRows))]
    public async Task ClassifyAsync_Status_MapsToKind(int status, string? body, FailureKind expected, bool retryMayHelp)
    {
        Respond(status, body);

        var result = await CallAndClassifyAsync();

        Assert.Equal(expected, result.Kind);
        Assert.Equal(retryMayHelp, result.RetryMayHelp);
        Assert.Equal(expected != FailureKind.None, result.IsFailure);
        if (result.IsFailure)
        {
            Assert.Equal((HttpStatusCode)status, result.StatusCode);
        }
    }

    public static TheoryData<int, string, FailureKind, string> ProviderRows => new()
    {
        // OpenAI: billing quota spent is not a rate limit.
        { 429, """{"error":{"message":"You exceeded your current quota","type":"insufficient_quota","param":null,"code":"insufficient_quota"}}""", FailureKind.QuotaExhausted, "insufficient_quota" },
        { 429, """{"error":{"message":"Rate limit reached for requests","type":"requests","param":null,"code":"rate_limit_exceeded"}}""", FailureKind.RateLimit, "rate_limit_exceeded" },
        { 401, """{"error":{"message":"Incorrect API key provided","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}""", FailureKind.Auth, "invalid_api_key" },
        // Anthropic.
        { 429, """{"type":"error","error":{"type":"rate_limit_error","message":"Number of requests has exceeded your rate limit"},"request_id":"req_1"}""", FailureKind.RateLimit, "rate_limit_error" },
        { 400, """{"type":"error","error":{"type":"invalid_request_error","message":"You have reached your specified workspace API usage limits (enforced_spend_limit_reached)."}}""", FailureKind.QuotaExhausted, "invalid_request_error" },
        { 529, """{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}""", FailureKind.Unavailable, "overloaded_error" },
        // Gemini: numeric code, named status.
        { 503, """{"error":{"code":503,"message":"The model is overloaded.","status":"UNAVAILABLE"}}""", FailureKind.Unavailable, "UNAVAILABLE" },
        // Google APIs and Salesforce answer quota and rate limits with 403.
        { 403, """{"error":{"code":403,"message":"Rate Limit Exceeded","errors":[{"domain":"usageLimits","reason":"userRateLimitExceeded"}],"status":"PERMISSION_DENIED"}}""", FailureKind.RateLimit, "PERMISSION_DENIED" },
        { 403, """[{"message":"TotalRequests Limit exceeded.","errorCode":"REQUEST_LIMIT_EXCEEDED"}]""", FailureKind.QuotaExhausted, "REQUEST_LIMIT_EXCEEDED" },
        // Gemini per-day quota: waiting seconds will not help.
        { 429, """{"error":{"code":429,"message":"Quota exceeded for metric: generate_content_free_tier_requests, limit: 0","status":"RESOURCE_EXHAUSTED","details":[{"@type":"type.googleapis.com/google.rpc.QuotaFailure","violations":[{"quotaId":"GenerateRequestsPerDayPerProjectPerModel-FreeTier"}]}]}}""", FailureKind.QuotaExhausted, "RESOURCE_EXHAUSTED" },
        // Flat envelope.
        { 409, """{"code":"duplicate_contact","message":"exists"}""", FailureKind.Rejected, "duplicate_contact" },
    };

    [Theory]
    [MemberData(nameof(ProviderRows))]
    public async Task ClassifyAsync_ProviderErrorBody_ReadsCodeAndRefinesKind(int status, string body, FailureKind expected, string code)
    {
        Respond(status, body);

        var result = await CallAndClassifyAsync();

        Assert.Equal(expected, result.Kind);
        Assert.Equal(code, result.ProviderCode);
    }

    [Fact]
    public async Task ClassifyAsync_QuotaExhausted_RetryDoesNotHelp()
    {
        Respond(429, """{"error":{"message":"quota","type":"insufficient_quota","code":"insufficient_quota"}}""");

        var result = await CallAndClassifyAsync();

        Assert.Equal(FailureKind.QuotaExhausted, result.Kind);
        Assert.False(result.RetryMayHelp);
    }

    [Fact]
    public async Task ClassifyAsync_ErrorBody_StaysReadableByCaller()
    {
        string body = """{"error":{"code":"rate_limit_exceeded","message":"slow down"}}""";
        Respond(429, body);
        using var response = await CallAsync(HttpCompletionOption.ResponseHeadersRead);

        var result = await CreateClassifier().ClassifyAsync(response, Ct);

        Assert.Equal("rate_limit_exceeded", result.ProviderCode);
        Assert.Equal(body, await response.Content.ReadAsStringAsync(Ct));
    }

    [Fact]
    public async Task ClassifyAsync_LargeStreamedErrorBody_ReadsOnlyPrefixAndCallerGetsWholeBody()
    {
        // The code sits beyond the 4 KiB prefix, so it must not be found; the caller still reads every byte.
        string body = "{\"padding\":\"" + new string('x', 10_000) + "\",\"error\":{\"code\":\"late_code\"}}";
        Respond(500, body);
        using var response = await CallAsync(HttpCompletionOption.ResponseHeadersRead);

        var result = await CreateClassifier().ClassifyAsync(response, Ct);

        Assert.Equal(FailureKind.Unavailable, result.Kind);
        Assert.Null(result.ProviderCode);
        Assert.Equal(body, await response.Content.ReadAsStringAsync(Ct));
    }

    [Fact]
    public async Task ClassifyAsync_LargerErrorBodyLimit_FindsLateCode()
    {
        string body = "{\"padding\":\"" + new string('x', 10_000) + "\",\"error\":{\"code\":\"late_code\"}}";
        Respond(500, body);

        var result = await CallAndClassifyAsync(CreateClassifier(o => o.MaxErrorBodyBytes = 64 * 1024));

        Assert.Equal("late_code", result.ProviderCode);
    }

    [Fact]
    public async Task ClassifyAsync_ErrorBodyReadingDisabled_ClassifiesByStatusOnly()
    {
        Respond(429, """{"error":{"code":"insufficient_quota"}}""");

        var result = await CallAndClassifyAsync(CreateClassifier(o => o.MaxErrorBodyBytes = 0));

        Assert.Equal(FailureKind.RateLimit, result.Kind);
        Assert.Null(result.ProviderCode);
    }

    [Fact]
    public void Constructor_ErrorBodyLimitOutOfRange_ThrowsNamingTheOption()
    {
        var options = new FailureClassifierOptions { MaxErrorBodyBytes = -1 };

        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => new FailureClassifier(options));

        Assert.Contains("MaxErrorBodyBytes", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ToString_RateLimitWithHint_DescribesKindStatusCodeAndWait()
    {
        var classification = new FailureClassification(FailureKind.RateLimit)
        {
            StatusCode = HttpStatusCode.TooManyRequests,
            ProviderCode = "rate_limit_exceeded",
            RetryAfter = TimeSpan.FromMilliseconds(1500),
        };

        Assert.Equal("RateLimit (HTTP 429, rate_limit_exceeded, retry after 1.5s)", classification.ToString());
    }
}
