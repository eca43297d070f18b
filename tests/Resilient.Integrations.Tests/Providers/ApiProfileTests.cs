using System.Globalization;
using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Resilient.Integrations.Classification;
using Resilient.Integrations.DependencyInjection;
using Resilient.Integrations.Providers;
using Resilient.Integrations.Tests.Support;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using Resilient.Integrations.Internal;

namespace Resilient.Integrations.Tests.Providers;

/// <summary>
/// Each API's documented error shapes, written here from its public error documentation (cited per fixture) and sent
/// over real HTTP to an integration with and without the API's profile.
/// </summary>
public sealed class ApiProfileTests
{
    private const string Token = "profile-test-token-never-logged";

    public static TheoryData<string, int, string, string, FailureKind, int?, bool, bool> Fixtures => new()
    {
        // api, status, headers ("Name: value" joined by " | ", {epoch+N} is N seconds from now), body,
        // kind, retry hint in seconds, whether a retry may help, and whether only the profile gets it right.

        // Meta: https://developers.facebook.com/docs/graph-api/guides/error-handling and .../graph-api/overview/rate-limiting
        { "meta", 400, "", """{"error":{"message":"Error validating access token: Session has expired.","type":"OAuthException","code":190,"error_subcode":463,"fbtrace_id":"Ax1"}}""", FailureKind.Auth, null, false, true },
        { "meta", 400, "", """{"error":{"message":"Error validating access token: The session is invalid.","type":"OAuthException","code":190,"error_subcode":467,"fbtrace_id":"Ax2"}}""", FailureKind.Auth, null, false, true },
        { "meta", 400, """X-App-Usage: {"call_count":100,"total_cputime":12,"total_time":15}""", """{"error":{"message":"(#4) Application request limit reached","type":"OAuthException","code":4,"is_transient":true,"fbtrace_id":"Ax3"}}""", FailureKind.RateLimit, null, true, true },
        { "meta", 400, "", """{"error":{"message":"(#17) User request limit reached","type":"OAuthException","code":17,"fbtrace_id":"Ax4"}}""", FailureKind.RateLimit, null, true, true },
        { "meta", 403, "", """{"error":{"message":"(#32) Page request limit reached","type":"OAuthException","code":32,"fbtrace_id":"Ax5"}}""", FailureKind.RateLimit, null, true, true },
        { "meta", 400, "", """{"error":{"message":"(#613) Calls to this api have exceeded the rate limit.","type":"OAuthException","code":613,"fbtrace_id":"Ax6"}}""", FailureKind.RateLimit, null, true, true },
        { "meta", 400, """X-Business-Use-Case-Usage: {"1234":[{"type":"ads_management","call_count":100,"total_cputime":20,"total_time":25,"estimated_time_to_regain_access":2}]}""", """{"error":{"message":"There have been too many calls to this ad-account.","type":"OAuthException","code":80004,"error_subcode":2446079,"fbtrace_id":"Ax7"}}""", FailureKind.RateLimit, 120, true, true },
        { "meta", 500, "", """{"error":{"message":"An unexpected error has occurred. Please retry your request later.","type":"OAuthException","code":2,"is_transient":true,"fbtrace_id":"Ax8"}}""", FailureKind.Unavailable, null, true, false },
        { "meta", 400, "", """{"error":{"message":"An unknown error occurred","type":"OAuthException","code":1,"fbtrace_id":"Ax9"}}""", FailureKind.Unavailable, null, true, true },
        { "meta", 400, "", """{"error":{"message":"Please reduce the amount of data you're asking for, then retry your request","type":"OAuthException","code":99,"is_transient":true,"fbtrace_id":"AxA"}}""", FailureKind.Unavailable, null, true, true },
        { "meta", 400, "", """{"error":{"message":"(#10) Application does not have permission for this action","type":"OAuthException","code":10,"fbtrace_id":"AxB"}}""", FailureKind.Auth, null, false, true },
        { "meta", 400, "", """{"error":{"message":"(#200) Requires pages_manage_posts permission","type":"OAuthException","code":200,"fbtrace_id":"AxC"}}""", FailureKind.Auth, null, false, true },
        { "meta", 400, "", """{"error":{"message":"The action attempted has been deemed abusive or is otherwise disallowed","type":"OAuthException","code":368,"fbtrace_id":"AxD"}}""", FailureKind.RateLimit, null, true, true },
        { "meta", 400, "", """{"error":{"message":"(#100) Unsupported get request.","type":"GraphMethodException","code":100,"error_subcode":33,"fbtrace_id":"AxE"}}""", FailureKind.Rejected, null, false, false },

        // Slack: https://api.slack.com/methods/auth.test (errors table) and https://api.slack.com/apis/rate-limits
        { "slack", 200, "", """{"ok":false,"error":"invalid_auth"}""", FailureKind.Auth, null, false, true },
        { "slack", 200, "", """{"ok":false,"error":"token_expired"}""", FailureKind.Auth, null, false, true },
        { "slack", 200, "", """{"ok":false,"error":"token_revoked"}""", FailureKind.Auth, null, false, true },
        { "slack", 200, "Retry-After: 3", """{"ok":false,"error":"ratelimited"}""", FailureKind.RateLimit, 3, true, true },
        { "slack", 200, "", """{"ok":false,"error":"channel_not_found"}""", FailureKind.Rejected, null, false, true },
        { "slack", 200, "", """{"ok":false,"error":"internal_error"}""", FailureKind.Unavailable, null, true, true },
        { "slack", 200, "", """{"ok":false,"error":"missing_scope","needed":"chat:write","provided":"channels:read"}""", FailureKind.Auth, null, false, true },
        { "slack", 429, "Retry-After: 30", """{"ok":false,"error":"ratelimited"}""", FailureKind.RateLimit, 30, true, false },

        // GitHub: https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api
        { "github", 403, "x-ratelimit-limit: 5000 | x-ratelimit-remaining: 0 | x-ratelimit-used: 5000 | x-ratelimit-reset: {epoch+60}", """{"message":"API rate limit exceeded for user ID 1.","documentation_url":"https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"}""", FailureKind.RateLimit, 60, true, false },
        { "github", 429, "x-ratelimit-limit: 5000 | x-ratelimit-remaining: 0 | x-ratelimit-reset: {epoch+90}", """{"message":"API rate limit exceeded for user ID 1."}""", FailureKind.RateLimit, 90, true, false },
        { "github", 403, "retry-after: 30 | x-ratelimit-remaining: 4000", """{"message":"You have exceeded a secondary rate limit. Please wait a few minutes before you try again."}""", FailureKind.RateLimit, 30, true, false },
        { "github", 403, "x-ratelimit-remaining: 4000", """{"message":"You have exceeded a secondary rate limit. Please wait a few minutes before you try again."}""", FailureKind.RateLimit, 60, true, true },
        { "github", 429, "x-ratelimit-remaining: 4000", """{"message":"You have exceeded a secondary rate limit."}""", FailureKind.RateLimit, 60, true, true },
        { "github", 403, "", """{"message":"API rate limit exceeded for 203.0.113.7."}""", FailureKind.RateLimit, 60, true, true },
        { "github", 401, "", """{"message":"Bad credentials","documentation_url":"https://docs.github.com/rest"}""", FailureKind.Auth, null, false, false },

        // SendGrid: https://support.sendgrid.com/hc/en-us/articles/18322114821403-4XX-API-Errors-and-Troubleshooting-Suggestions
        // and https://www.twilio.com/docs/sendgrid/api-reference/how-to-use-the-sendgrid-v3-api/rate-limits
        { "sendgrid", 429, "X-RateLimit-Limit: 600 | X-RateLimit-Remaining: 0 | X-RateLimit-Reset: {epoch+20}", """{"errors":[{"field":null,"message":"too many requests"}]}""", FailureKind.RateLimit, 20, true, false },
        { "sendgrid", 401, "", """{"errors":[{"field":null,"message":"Maximum credits exceeded"}]}""", FailureKind.QuotaExhausted, null, false, true },
        { "sendgrid", 401, "", """{"errors":[{"field":null,"message":"The provided authorization grant is invalid, expired, or revoked"}]}""", FailureKind.Auth, null, false, false },

        // HubSpot: https://developers.hubspot.com/docs/api/usage-details
        { "hubspot", 429, "X-HubSpot-RateLimit-Daily: 250000 | X-HubSpot-RateLimit-Daily-Remaining: 0", """{"status":"error","message":"You have reached your daily limit.","errorType":"RATE_LIMIT","correlationId":"c-1","policyName":"DAILY","groupName":"api-key:1"}""", FailureKind.QuotaExhausted, null, false, true },
        { "hubspot", 429, "X-HubSpot-RateLimit-Interval-Milliseconds: 10000 | X-HubSpot-RateLimit-Max: 100 | X-HubSpot-RateLimit-Remaining: 0", """{"status":"error","message":"You have reached your ten_secondly_rolling limit.","errorType":"RATE_LIMIT","correlationId":"c-2","policyName":"TEN_SECONDLY_ROLLING","groupName":"private-app:1"}""", FailureKind.RateLimit, 10, true, true },
        { "hubspot", 401, "", """{"status":"error","message":"Authentication credentials not found.","correlationId":"c-3","category":"INVALID_AUTHENTICATION"}""", FailureKind.Auth, null, false, false },

        // Salesforce: https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/errorcodes.htm
        { "salesforce", 401, "", """[{"message":"Session expired or invalid","errorCode":"INVALID_SESSION_ID"}]""", FailureKind.Auth, null, false, false },
        { "salesforce", 403, "", """[{"message":"TotalRequests Limit exceeded.","errorCode":"REQUEST_LIMIT_EXCEEDED"}]""", FailureKind.QuotaExhausted, null, false, false },
        { "salesforce", 400, "", """[{"message":"unable to obtain exclusive access to this record","errorCode":"UNABLE_TO_LOCK_ROW","fields":[]}]""", FailureKind.Unavailable, null, true, true },

        // Microsoft Graph: https://learn.microsoft.com/graph/errors and https://learn.microsoft.com/graph/throttling
        { "msgraph", 401, "", """{"error":{"code":"InvalidAuthenticationToken","message":"Access token has expired or is not yet valid.","innerError":{"request-id":"r-1"}}}""", FailureKind.Auth, null, false, false },
        { "msgraph", 429, "Retry-After: 10", """{"error":{"code":"activityLimitReached","message":"The request has been throttled"}}""", FailureKind.RateLimit, 10, true, false },
        { "msgraph", 507, "", """{"error":{"code":"quotaLimitReached","message":"Insufficient Storage"}}""", FailureKind.QuotaExhausted, null, false, true },
        { "msgraph", 509, "", """{"error":{"code":"bandwidthLimitExceeded","message":"Bandwidth Limit Exceeded"}}""", FailureKind.RateLimit, null, true, true },

        // Stripe: https://docs.stripe.com/error-low-level and https://docs.stripe.com/error-codes
        { "stripe", 402, "", """{"error":{"type":"card_error","code":"card_declined","decline_code":"insufficient_funds","message":"Your card has insufficient funds."}}""", FailureKind.Rejected, null, false, false },
        { "stripe", 429, "", """{"error":{"type":"invalid_request_error","code":"rate_limit","message":"Too many requests hit the API too quickly."}}""", FailureKind.RateLimit, null, true, false },
        { "stripe", 401, "", """{"error":{"type":"invalid_request_error","code":"api_key_expired","message":"Expired API Key provided."}}""", FailureKind.Auth, null, false, false },
        { "stripe", 500, "Stripe-Should-Retry: false", """{"error":{"type":"api_error","message":"Something went wrong on Stripe's end."}}""", FailureKind.Unavailable, null, false, true },
        { "stripe", 409, "Stripe-Should-Retry: true", """{"error":{"type":"invalid_request_error","code":"lock_timeout","message":"This object cannot be accessed right now because another API request or Stripe process is currently accessing it."}}""", FailureKind.Rejected, null, true, true },

        // Twilio: https://www.twilio.com/docs/usage/twilios-response, https://www.twilio.com/docs/api/errors/20429, .../21611
        { "twilio", 401, "", """{"code":20003,"message":"Authenticate","more_info":"https://www.twilio.com/docs/errors/20003","status":401}""", FailureKind.Auth, null, false, false },
        { "twilio", 429, "", """{"code":20429,"message":"Too Many Requests","more_info":"https://www.twilio.com/docs/errors/20429","status":429}""", FailureKind.RateLimit, null, true, false },
        { "twilio", 400, "", """{"code":21211,"message":"The 'To' number is not a valid phone number.","more_info":"https://www.twilio.com/docs/errors/21211","status":400}""", FailureKind.Rejected, null, false, false },
        { "twilio", 400, "", """{"code":14107,"message":"SMS send rate limit exceeded","more_info":"https://www.twilio.com/docs/errors/14107","status":400}""", FailureKind.RateLimit, null, true, true },
        { "twilio", 400, "", """{"code":21611,"message":"This 'From' number has exceeded the maximum number of queued messages","more_info":"https://www.twilio.com/docs/errors/21611","status":400}""", FailureKind.RateLimit, null, true, true },
    };

    internal static void Apply(IResilientIntegrationBuilder builder, string api, Action<ApiProfileOptions>? more = null)
    {
        void Options(ApiProfileOptions o)
        {
            o.AccessToken = Token;
            o.HealthProbe = false;
            o.Endpoint = api == "salesforce" ? new Uri("https://example.my.salesforce.com/") : null;
            o.AccountId = api == "twilio" ? "AC0123456789abcdef0123456789abcdef" : null;
            more?.Invoke(o);
        }

        _ = api switch
        {
            "meta" => builder.ForMetaGraph(Options),
            "slack" => builder.ForSlack(Options),
            "github" => builder.ForGitHub(Options),
            "sendgrid" => builder.ForSendGrid(Options),
            "hubspot" => builder.ForHubSpot(Options),
            "salesforce" => builder.ForSalesforce(Options),
            "msgraph" => builder.ForMicrosoftGraph(Options),
            "stripe" => builder.ForStripe(Options),
            "twilio" => builder.ForTwilio(Options),
            _ => throw new ArgumentOutOfRangeException(nameof(api)),
        };
    }

    [Theory]
    [MemberData(nameof(Fixtures))]
    public async Task Send_ApiErrorShape_ClassifiedAsTheApiDocumentsIt(
        string api, int status, string headers, string body, FailureKind kind, int? hintSeconds, bool retryMayHelp, bool profileDecides)
    {
        const string path = "/resource";
        async Task<FailureClassification> SendAsync(bool withProfile)
        {
            // No retries: the classification of the one answer is what is compared (retries are counted elsewhere).
            await using var h = IntegrationHarness.Create(
                configure: o =>
                {
                    foreach (var k in Enum.GetValues<FailureKind>())
                    {
                        o.PolicyFor(k).MaxRetries = 0;
                    }
                },
                build: withProfile ? b => Apply(b, api) : null);
            var response = Response.Create().WithStatusCode(status).WithHeader("Content-Type", "application/json").WithBody(body);
            foreach (var header in headers.Split(" | ", StringSplitOptions.RemoveEmptyEntries))
            {
                var (name, value) = (header[..header.IndexOf(':', StringComparison.Ordinal)], header[(header.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim());
                if (value.StartsWith("{epoch+", StringComparison.Ordinal))
                {
                    value = (h.Clock.GetUtcNow() + TimeSpan.FromSeconds(int.Parse(value[7..^1], CultureInfo.InvariantCulture))).ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
                }

                response = response.WithHeader(name, value);
            }

            h.Server.Given(Request.Create().WithPath(path)).RespondWith(response);
            var (ok, error) = await h.GetAsync(path);
            return error is IntegrationFailureException failure ? failure.Classification : FailureClassification.Success;
        }

        var with = await SendAsync(withProfile: true);
        var without = await SendAsync(withProfile: false);

        Assert.Equal(kind, with.Kind);
        Assert.Equal(hintSeconds is { } s ? TimeSpan.FromSeconds(s) : null, with.RetryAfter);
        Assert.Equal(retryMayHelp, with.RetryMayHelp);

        // Where the profile decides, the generic reader gets the kind, the wait or the retry verdict wrong; elsewhere it is already right.
        Assert.Equal(profileDecides, (without.Kind, without.RetryAfter, without.RetryMayHelp) != (with.Kind, with.RetryAfter, with.RetryMayHelp));
    }

    [Theory]
    [InlineData("meta", "/debug_token", "Authorization", "Bearer " + Token)]
    [InlineData("slack", "/api/auth.test", "Authorization", "Bearer " + Token)]
    [InlineData("github", "/rate_limit", "Authorization", "Bearer " + Token)]
    [InlineData("hubspot", "/account-info/v3/details", "Authorization", "Bearer " + Token)]
    [InlineData("salesforce", "/services/data/v62.0/limits", "Authorization", "Bearer " + Token)]
    [InlineData("msgraph", "/v1.0/organization", "Authorization", "Bearer " + Token)]
    [InlineData("sendgrid", "/v3/scopes", "Authorization", "Bearer " + Token)]
    [InlineData("stripe", "/v1/balance", "Authorization", "Bearer " + Token)]
    [InlineData("twilio", "/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef.json", "Authorization", "Basic QUMwMTIzNDU2Nzg5YWJjZGVmMDEyMzQ1Njc4OWFiY2RlZjpwcm9maWxlLXRlc3QtdG9rZW4tbmV2ZXItbG9nZ2Vk")]
    public async Task HealthProbe_Profile_ProbesItsCheapRequestWithTheCredentialAndLogsNoSecret(string api, string probePath, string header, string value)
    {
        await using var h = IntegrationHarness.Create(build: b => Apply(b, api, o =>
        {
            o.HealthProbe = true;
            o.Probe.InitialDelay = TimeSpan.Zero;
            o.Probe.Jitter = TimeSpan.Zero;
        }));
        h.Server.Given(Request.Create().WithPath(probePath)).RespondWith(
            Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json").WithBody(api == "meta" ? """{"data":{"is_valid":true,"expires_at":0}}""" : """{"ok":true}"""));

        await h.StartHostedServicesAsync();

        var monitor = h.Provider.GetRequiredService<Resilient.Integrations.Health.IIntegrationHealthMonitor>();
        await Eventually.WaitUntilAsync(() => monitor.Get(IntegrationHarness.Name).LastResultAt is not null);
        Assert.False(monitor.Get(IntegrationHarness.Name).LastResult!.Value.Outcome.IsFailure);
        var request = Assert.Single(h.Server.LogEntries, e => e.RequestMessage!.Path == probePath).RequestMessage!;
        Assert.Equal(value, request.Headers![header].Single());
        Assert.DoesNotContain(h.Logs.GetSnapshot(), r => r.Message.Contains(Token, StringComparison.Ordinal) || r.StructuredState?.Any(kv => kv.Value?.Contains(Token, StringComparison.Ordinal) == true) == true);
    }

    [Fact]
    public async Task Send_SlackOkTrue_PassesUntouched()
    {
        const string body = """{"ok":true,"url":"https://example.slack.com/","team":"Example","user":"bot","user_id":"U1"}""";
        await using var h = IntegrationHarness.Create(build: b => Apply(b, "slack"));
        h.Server.Given(Request.Create().WithPath("/api/auth.test")).RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json").WithBody(body));

        var (response, error) = await h.GetAsync("/api/auth.test");

        Assert.Null(error);
        Assert.Equal(HttpStatusCode.OK, response!.StatusCode);
        Assert.Equal(body, await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task Send_GitHubSecondaryLimitWithoutRetryAfter_WaitsAMinuteOnceThenSucceeds()
    {
        await using var h = IntegrationHarness.Create(build: b => Apply(b, "github"));
        h.Server.Given(Request.Create().WithPath("/call")).InScenario("s").WillSetStateTo("ok").RespondWith(
            Response.Create().WithStatusCode(403).WithHeader("Content-Type", "application/json").WithHeader("x-ratelimit-remaining", "4000")
                .WithBody("""{"message":"You have exceeded a secondary rate limit."}"""));
        h.Server.Given(Request.Create().WithPath("/call")).InScenario("s").WhenStateIs("ok").RespondWith(
            Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json").WithBody("{}"));

        var (response, error) = await h.GetAsync();

        Assert.Null(error);
        Assert.Equal(2, h.UpstreamAttempts());
        Assert.Equal([ServerHint.Wait(TimeSpan.FromMinutes(1))], h.Clock.Waits);
        Assert.Equal("Resilient.Integrations", h.Server.LogEntries.First().RequestMessage!.Headers!["User-Agent"].Single());
    }

    [Fact]
    public async Task Send_MetaExpiredToken_OneAttemptOneCriticalAlertAndRed()
    {
        await using var h = IntegrationHarness.Create(build: b => Apply(b, "meta"));
        h.Server.Given(Request.Create().WithPath("/me")).RespondWith(Response.Create().WithStatusCode(400).WithHeader("Content-Type", "application/json")
            .WithBody("""{"error":{"message":"Error validating access token: Session has expired.","type":"OAuthException","code":190,"error_subcode":463,"fbtrace_id":"Ax1"}}"""));

        var (_, error) = await h.GetAsync("/me");

        Assert.Equal(FailureKind.Auth, Assert.IsType<IntegrationFailureException>(error).Kind);
        Assert.Equal(1, h.UpstreamAttempts("/me"));
        var alert = Assert.Single(await h.SettledAlertsAsync());
        Assert.Equal(Resilient.Integrations.Alerts.AlertSeverity.Critical, alert.Severity);
        Assert.Equal(Resilient.Integrations.Health.HealthState.Red,
            h.Provider.GetRequiredService<Resilient.Integrations.Health.IIntegrationHealthMonitor>().Get(IntegrationHarness.Name).State);
    }

    [Fact]
    public async Task Send_HubSpotDailyLimit_OneAttemptNoWait()
    {
        await using var h = IntegrationHarness.Create(build: b => Apply(b, "hubspot"));
        h.Server.Given(Request.Create().WithPath("/call")).RespondWith(Response.Create().WithStatusCode(429).WithHeader("Content-Type", "application/json")
            .WithBody("""{"status":"error","message":"You have reached your daily limit.","errorType":"RATE_LIMIT","correlationId":"c-1","policyName":"DAILY","groupName":"api-key:1"}"""));

        var (_, error) = await h.GetAsync();

        Assert.Equal(FailureKind.QuotaExhausted, Assert.IsType<IntegrationFailureException>(error).Kind);
        Assert.Equal(1, h.UpstreamAttempts());
        Assert.Empty(h.Clock.Waits);
    }

    [Fact]
    public void ForTwilio_WithoutAccountId_FailsNamingTheOption()
    {
        var services = new ServiceCollection();
        var builder = services.AddResilientIntegration("sms");

        var error = Assert.Throws<ArgumentException>(() => builder.ForTwilio(o => o.AccessToken = Token));

        Assert.Contains("AccountId", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ForSalesforce_WithoutEndpoint_FailsNamingTheOption()
    {
        var services = new ServiceCollection();
        var builder = services.AddResilientIntegration("crm");

        var error = Assert.Throws<ArgumentException>(() => builder.ForSalesforce(o => o.AccessToken = Token));

        Assert.Contains("Endpoint", error.Message, StringComparison.Ordinal);
    }
}
