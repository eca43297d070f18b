using System.Text;
using Resilient.Integrations.Classification;
using Resilient.Integrations.Classification.Internal;

namespace Resilient.Integrations.Providers.Internal;

/// <summary>
/// The API profiles. Each rule decides something the generic reader cannot know from the status and the shared
/// headers alone (the README's table says what); what the generic reader already gets right carries no rule.
/// </summary>
internal static class ApiProfiles
{
    public static ApiProfile MetaGraph { get; } = new()
    {
        Name = "Meta Graph API",
        DefaultEndpoint = new Uri("https://graph.facebook.com/"),
        ProbePath = "debug_token?input_token={1}", // costs no quota; also says when the token expires
        InspectProbe = MetaGraphError.Inspect,
        Rules =
        [
            // Nearly every Graph error is HTTP 400: the code names it. 190 (and 102) is an expired, revoked or invalid token.
            Meta(c => c is 190 or 102, FailureKind.Auth, "OAuthException"),
            Meta(MetaGraphError.IsRateLimit, FailureKind.RateLimit, "rate_limit").WithRetryAfter(a => MetaGraphError.UsageWait(a.Header)),
            Meta(c => c is 10 or (>= 200 and <= 299), FailureKind.Auth, "permission"),
            Meta(c => c is 368, FailureKind.RateLimit, "temporarily_blocked"),
            Meta(c => c is 1 or 2, FailureKind.Unavailable, "api_unknown_or_service"),
            FailureRule.ForBody(b => MetaGraphError.Read(b).Transient == true, FailureKind.Unavailable).WhenError().WithProviderCode("is_transient"),
        ],
    };

    public static ApiProfile Slack { get; } = new()
    {
        Name = "Slack Web API",
        DefaultEndpoint = new Uri("https://slack.com/"),
        ProbePath = "api/auth.test", // no rate-limit cost worth the name (Tier special), no side effect
        Validator = inner => new SlackResponseValidator(inner),
    };

    public static ApiProfile GitHub { get; } = new()
    {
        Name = "GitHub REST API",
        DefaultEndpoint = new Uri("https://api.github.com/"),
        ProbePath = "rate_limit", // does not count against the primary rate limit
        ExpiryHeader = "github-authentication-token-expiration",
        RequiredHeaders =
        [
            ("User-Agent", "Resilient.Integrations"), // GitHub refuses requests without one
            ("Accept", "application/vnd.github+json"),
            ("X-GitHub-Api-Version", "2022-11-28"),
        ],
        Rules =
        [
            // A secondary limit may come without retry-after; the docs then say wait at least a minute.
            GitHubLimit(403, "secondary rate limit", "secondary_rate_limit"),
            GitHubLimit(429, "secondary rate limit", "secondary_rate_limit"),
            GitHubLimit(403, "API rate limit exceeded", "rate_limit_exceeded"),
        ],
    };

    public static ApiProfile HubSpot { get; } = new()
    {
        Name = "HubSpot API",
        DefaultEndpoint = new Uri("https://api.hubapi.com/"),
        ProbePath = "account-info/v3/details",
        Rules =
        [
            // The daily limit is spent until midnight in the account's time zone: waiting seconds will not help.
            FailureRule.ForStatus(429, FailureKind.QuotaExhausted).WhenBody(b => HubSpotPolicy(b) == "DAILY").WithProviderCode("DAILY"),
            FailureRule.ForStatus(429, FailureKind.RateLimit).WhenBody(b => HubSpotPolicy(b) is "TEN_SECONDLY_ROLLING" or "SECONDLY")
                .WithProviderCode("TEN_SECONDLY_ROLLING")
                .WithRetryAfter(a => a.Header("Retry-After") is null && a.Header("X-HubSpot-RateLimit-Interval-Milliseconds") is { } ms &&
                    double.TryParse(ms, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out double interval)
                        ? TimeSpan.FromMilliseconds(interval)
                        : null),
        ],
    };

    public static ApiProfile Salesforce { get; } = new()
    {
        Name = "Salesforce REST API",
        ProbePath = "services/data/v62.0/limits",
        Rules =
        [
            // A record locked by another transaction: the same request succeeds once the lock is released.
            FailureRule.ForBody(b => b.Contains("UNABLE_TO_LOCK_ROW", StringComparison.Ordinal), FailureKind.Unavailable).WhenError().WithProviderCode("UNABLE_TO_LOCK_ROW"),
        ],
    };

    public static ApiProfile MicrosoftGraph { get; } = new()
    {
        Name = "Microsoft Graph",
        DefaultEndpoint = new Uri("https://graph.microsoft.com/"),
        ProbePath = "v1.0/organization?$select=id",
        Rules =
        [
            // 507: the drive's storage quota is full; retrying cannot help. 509: SharePoint's bandwidth throttle.
            FailureRule.ForStatus(507, FailureKind.QuotaExhausted).WithProviderCode("quotaLimitReached"),
            FailureRule.ForStatus(509, FailureKind.RateLimit).WithProviderCode("bandwidthLimitExceeded"),
        ],
    };

    public static ApiProfile SendGrid { get; } = new()
    {
        Name = "SendGrid",
        DefaultEndpoint = new Uri("https://api.sendgrid.com/"),
        ProbePath = "v3/scopes", // lists the key's scopes: sends nothing, spends no credit
        Rules =
        [
            // The plan's credits are spent: a 401, but the key is fine and a retry before the reset cannot help.
            FailureRule.ForStatus(401, FailureKind.QuotaExhausted).WhenBody(b => b.Contains("Maximum credits exceeded", StringComparison.OrdinalIgnoreCase)).WithProviderCode("maximum_credits_exceeded"),
        ],
    };

    public static ApiProfile Stripe { get; } = new()
    {
        Name = "Stripe",
        DefaultEndpoint = new Uri("https://api.stripe.com/"),
        ProbePath = "v1/balance", // read-only, free
        ShouldRetryHeader = "Stripe-Should-Retry",
    };

    public static ApiProfile Twilio { get; } = new()
    {
        Name = "Twilio",
        DefaultEndpoint = new Uri("https://api.twilio.com/"),
        ProbePath = "2010-04-01/Accounts/{0}.json", // fetches the account itself: no message, no charge
        NeedsAccountId = true,
        KeyValue = (token, o) => "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes(o.AccountId + ":" + token)),
        Rules =
        [
            // 21611: the sender's queue of messages is full (HTTP 400): it drains, so waiting helps. 14107: send rate exceeded.
            FailureRule.ForStatus(400, FailureKind.RateLimit).WhenBody(b => JsonMembers.FirstNumber(b, "code") is 21611 or 14107).WithProviderCode("queue_or_rate_exceeded"),
        ],
    };

    private static FailureRule Meta(Func<int, bool> code, FailureKind kind, string providerCode) =>
        FailureRule.ForBody(b => MetaGraphError.Read(b).Code is int c && code(c), kind).WhenError().WithProviderCode(providerCode);

    private static FailureRule GitHubLimit(int status, string text, string providerCode) =>
        FailureRule.ForStatus(status, FailureKind.RateLimit)
            .WhenBody(b => b.Contains(text, StringComparison.OrdinalIgnoreCase))
            .WithProviderCode(providerCode)
            .WithRetryAfter(a => a.Header("Retry-After") is null && a.Header("x-ratelimit-remaining")?.Trim() != "0" ? TimeSpan.FromMinutes(1) : null);

    private static string? HubSpotPolicy(string body) => JsonMembers.FirstString(body, "policyName");
}
