using System.Globalization;
using Resilient.Integrations.Classification;
using Resilient.Integrations.Tests.Support;

namespace Resilient.Integrations.Tests.Classification;

/// <summary>The rate-limit header dialects every API shares, read with no configuration, over real HTTP.</summary>
public sealed class RateLimitDialectTests : ClassifierTestBase
{
    private static string Epoch(TimeSpan fromNow) => (Now + fromNow).ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);

    public static TheoryData<int, string, FailureKind, int?> Dialects => new()
    {
        // status, headers ("Name: value" joined by " | "), kind, hint in seconds (null: none)
        { 429, "X-RateLimit-Remaining: 0 | X-RateLimit-Reset: " + Epoch(TimeSpan.FromSeconds(30)), FailureKind.RateLimit, 30 },  // epoch (GitHub, SendGrid)
        { 429, "X-RateLimit-Remaining: 0 | X-RateLimit-Reset: 20", FailureKind.RateLimit, 20 },                                  // delta seconds
        { 429, "X-RateLimit-Remaining: 5 | X-RateLimit-Reset: 20", FailureKind.RateLimit, null },                                // a window with requests left did not refuse it
        { 429, "X-RateLimit-Reset: 1000000000", FailureKind.RateLimit, null },                                                   // an epoch in 2001: garbage, not "now"
        { 429, "RateLimit-Remaining: 0 | RateLimit-Reset: 15", FailureKind.RateLimit, 15 },                                      // older IETF draft
        { 429, "RateLimit: \"default\";r=0;t=12", FailureKind.RateLimit, 12 },                                                  // IETF structured field
        { 429, "RateLimit: \"burst\";r=4;t=1, \"day\";r=0;t=40", FailureKind.RateLimit, 40 },                                   // the spent policy decides
        { 429, "RateLimit: limit=10, remaining=0, reset=7", FailureKind.RateLimit, 7 },                                          // draft-07 dictionary
        { 403, "x-ratelimit-remaining: 0 | x-ratelimit-reset: " + Epoch(TimeSpan.FromMinutes(2)), FailureKind.RateLimit, 120 },  // GitHub's primary limit on a 403
        { 403, "RateLimit: \"default\";r=0;t=9", FailureKind.RateLimit, 9 },                                                    // a 403 whose structured remaining is 0
        { 403, "retry-after: 45", FailureKind.RateLimit, 45 },                                                                    // GitHub's secondary limit
        { 403, "x-ratelimit-remaining: 12", FailureKind.Auth, null },                                                            // a plain 403 stays Auth
        { 503, "X-RateLimit-Remaining: 0 | X-RateLimit-Reset: 20", FailureKind.Unavailable, null },                              // a reset is a rate-limit hint only
    };

    [Theory]
    [MemberData(nameof(Dialects))]
    public async Task ClassifyAsync_SharedRateLimitDialect_KindAndHint(int status, string headers, FailureKind kind, int? hintSeconds)
    {
        Respond(status, """{"message":"slow down"}""", headers: [.. headers.Split(" | ").Select(h => h.Split(": ", 2)).Select(p => (p[0], p[1]))]);

        var classification = await CallAndClassifyAsync();

        Assert.Equal(kind, classification.Kind);
        Assert.Equal(hintSeconds is { } s ? TimeSpan.FromSeconds(s) : null, classification.RetryAfter);
    }
}
