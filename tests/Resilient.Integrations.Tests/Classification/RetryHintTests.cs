using System.Globalization;
using Resilient.Integrations.Classification;
using Resilient.Integrations.Tests.Support;

namespace Resilient.Integrations.Tests.Classification;

public sealed class RetryHintTests : ClassifierTestBase
{
    private static string HttpDate(TimeSpan fromNow) => (Now + fromNow).ToString("r", CultureInfo.InvariantCulture);

    private static string Rfc3339(TimeSpan fromNow) => (Now + fromNow).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    public static TheoryData<string, string[], double?> HeaderRows => new()
    {
        { "retry-after-ms", ["retry-after-ms", "1500"], 1500 },
        { "x-ms-retry-after-ms", ["x-ms-retry-after-ms", "250"], 250 },
        { "Retry-After seconds", ["Retry-After", "7"], 7000 },
        { "Retry-After HTTP-date", ["Retry-After", HttpDate(TimeSpan.FromSeconds(120))], 120_000 },
        { "Retry-After past HTTP-date", ["Retry-After", HttpDate(TimeSpan.FromSeconds(-30))], 0 },
        { "OpenAI reset-requests", ["x-ratelimit-remaining-requests", "0", "x-ratelimit-reset-requests", "6m0s"], 360_000 },
        { "OpenAI reset-tokens", ["x-ratelimit-remaining-tokens", "0", "x-ratelimit-reset-tokens", "51.189s"], 51_189 },
        { "OpenAI spent limit wins over longer unspent", ["x-ratelimit-remaining-requests", "12", "x-ratelimit-reset-requests", "1m0s", "x-ratelimit-remaining-tokens", "0", "x-ratelimit-reset-tokens", "20ms"], 20 },
        { "OpenAI no spent limit: longest", ["x-ratelimit-reset-requests", "1s", "x-ratelimit-reset-tokens", "2.5s"], 2500 },
        { "Anthropic requests reset", ["anthropic-ratelimit-requests-remaining", "0", "anthropic-ratelimit-requests-reset", Rfc3339(TimeSpan.FromSeconds(30))], 30_000 },
        { "Anthropic output tokens reset", ["anthropic-ratelimit-requests-remaining", "40", "anthropic-ratelimit-requests-reset", Rfc3339(TimeSpan.FromSeconds(50)), "anthropic-ratelimit-output-tokens-remaining", "0", "anthropic-ratelimit-output-tokens-reset", Rfc3339(TimeSpan.FromSeconds(12))], 12_000 },
        { "retry-after-ms wins over Retry-After", ["retry-after-ms", "300", "Retry-After", "9"], 300 },
        { "x-ms-retry-after-ms wins over Retry-After", ["x-ms-retry-after-ms", "800", "Retry-After", "9"], 800 },
        { "Retry-After wins over resets", ["Retry-After", "4", "x-ratelimit-remaining-requests", "0", "x-ratelimit-reset-requests", "1m0s"], 4000 },
        { "garbage ms falls through to Retry-After", ["retry-after-ms", "soon", "Retry-After", "3"], 3000 },
        { "negative ms ignored", ["retry-after-ms", "-5"], null },
        { "negative seconds ignored", ["Retry-After", "-5"], null },
        { "garbage Retry-After ignored", ["Retry-After", "tomorrow-ish"], null },
        { "garbage reset ignored", ["x-ratelimit-remaining-requests", "0", "x-ratelimit-reset-requests", "6 minutes"], null },
        { "absurd ms ignored", ["retry-after-ms", "1e300"], null },
        { "no hint", [], null },
    };

    [Theory]
    [MemberData(nameof(HeaderRows))]
    public async Task ClassifyAsync_RetryHintHeaders_ParsedInDesignOrder(string name, string[] headers, double? expectedMs)
    {
        _ = name;
        Respond(429, """{"error":{"code":"rate_limit_exceeded"}}""", headers: Pairs(headers));

        var result = await CallAndClassifyAsync();

        Assert.Equal(FailureKind.RateLimit, result.Kind);
        Assert.Equal(expectedMs is null ? null : TimeSpan.FromMilliseconds(expectedMs.Value), result.RetryAfter);
    }

    [Fact]
    public async Task ClassifyAsync_RetryAfterHttpDate_MeasuredAgainstInjectedClock()
    {
        Respond(503, null, headers: ("Retry-After", HttpDate(TimeSpan.FromMinutes(2))));
        Time.Advance(TimeSpan.FromSeconds(90));

        var result = await CallAndClassifyAsync();

        Assert.Equal(TimeSpan.FromSeconds(30), result.RetryAfter);
    }

    [Fact]
    public async Task ClassifyAsync_GeminiRetryInfoInBody_ReadAsHint()
    {
        Respond(429, """
            {"error":{"code":429,"message":"Resource has been exhausted","status":"RESOURCE_EXHAUSTED",
              "details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"10s"}]}}
            """);

        var result = await CallAndClassifyAsync();

        Assert.Equal(FailureKind.RateLimit, result.Kind);
        Assert.Equal("RESOURCE_EXHAUSTED", result.ProviderCode);
        Assert.Equal(TimeSpan.FromSeconds(10), result.RetryAfter);
    }

    [Fact]
    public async Task ClassifyAsync_TryAgainTextInBody_ReadAsHint()
    {
        Respond(429, """{"error":{"message":"Rate limit reached for gpt-4o. Please try again in 45.19s. Visit our docs.","code":"rate_limit_exceeded"}}""");

        var result = await CallAndClassifyAsync();

        Assert.Equal(TimeSpan.FromMilliseconds(45_190), result.RetryAfter);
    }

    [Fact]
    public async Task ClassifyAsync_HeaderHint_WinsOverBodyHint()
    {
        Respond(429, """{"error":{"message":"Please try again in 45s.","code":"rate_limit_exceeded"}}""", headers: ("retry-after-ms", "100"));

        var result = await CallAndClassifyAsync();

        Assert.Equal(TimeSpan.FromMilliseconds(100), result.RetryAfter);
    }

    [Fact]
    public async Task ClassifyAsync_ShouldRetryFalse_ForbidsRetryOfTransientKind()
    {
        Respond(503, null, headers: ("x-should-retry", "false"));

        var result = await CallAndClassifyAsync();

        Assert.Equal(FailureKind.Unavailable, result.Kind);
        Assert.False(result.RetryMayHelp);
    }

    [Fact]
    public async Task ClassifyAsync_ShouldRetryTrue_AllowsRetryOfOtherKind()
    {
        Respond(409, """{"error":{"type":"conflict"}}""", headers: ("x-should-retry", "true"));

        var result = await CallAndClassifyAsync();

        Assert.Equal(FailureKind.Rejected, result.Kind);
        Assert.True(result.RetryMayHelp);
    }

    [Fact]
    public async Task ClassifyAsync_ShouldRetryGarbage_KeepsKindDefault()
    {
        Respond(503, null, headers: ("x-should-retry", "maybe"));

        var result = await CallAndClassifyAsync();

        Assert.True(result.RetryMayHelp);
    }

    private static (string, string)[] Pairs(string[] flat) =>
        [.. Enumerable.Range(0, flat.Length / 2).Select(i => (flat[2 * i], flat[(2 * i) + 1]))];
}
