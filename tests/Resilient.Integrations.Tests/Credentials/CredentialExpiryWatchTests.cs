using System.Globalization;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Resilient.Integrations.Alerts;
using Resilient.Integrations.Classification;
using Resilient.Integrations.Credentials;
using Resilient.Integrations.Health;
using Resilient.Integrations.Tests.Providers;
using Resilient.Integrations.Tests.Support;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;

namespace Resilient.Integrations.Tests.Credentials;

/// <summary>The credential-expiry watch on fake time: a Warning ahead, a Critical at the expiry, never the credential's text.</summary>
public sealed class CredentialExpiryWatchTests
{
    private static readonly DateTimeOffset Start = new(2026, 11, 23, 6, 0, 0, TimeSpan.Zero);

    private static string Jwt(DateTimeOffset expiresAt, DateTimeOffset? issuedAt = null)
    {
        static string Part(string json) => Convert.ToBase64String(Encoding.UTF8.GetBytes(json)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        string iat = issuedAt is { } i ? $",\"iat\":{i.ToUnixTimeSeconds()}" : "";
        return Part("""{"alg":"RS256","typ":"JWT"}""") + "." +
            Part($$"""{"sub":"svc-reporting","aud":"crm"{{iat}},"exp":{{expiresAt.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture)}}}""") +
            ".c2lnbmF0dXJlLW5ldmVyLWNoZWNrZWQ";
    }

    private static void AssertNoSecret(IntegrationHarness h, IEnumerable<Alert> alerts, string token)
    {
        // Neither the whole token nor any of its three parts (the payload alone identifies the account).
        string[] secrets = [token, .. token.Split('.')];
        foreach (var record in h.Logs.GetSnapshot())
        {
            Assert.DoesNotContain(secrets, s => record.Message.Contains(s, StringComparison.Ordinal));
            Assert.DoesNotContain(secrets, s => record.StructuredState?.Any(kv => kv.Value?.Contains(s, StringComparison.Ordinal) == true) == true);
        }

        foreach (var alert in alerts)
        {
            Assert.DoesNotContain(secrets, s => alert.ToString().Contains(s, StringComparison.Ordinal) || alert.Details.Values.Any(v => v.Contains(s, StringComparison.Ordinal)));
        }
    }

    private static HealthState HealthAfterASuccess(IntegrationHarness h)
    {
        var monitor = h.Provider.GetRequiredService<IIntegrationHealthMonitor>();
        monitor.Report(IntegrationHarness.Name, HealthProbeResult.Healthy(TimeSpan.FromMilliseconds(20)));
        return monitor.Get(IntegrationHarness.Name).State;
    }

    [Fact]
    public async Task Start_JwtExpiringInThreeDays_OneWarningNowOneCriticalAtExpiryNeverTheToken()
    {
        string token = Jwt(Start + TimeSpan.FromDays(3), issuedAt: Start - TimeSpan.FromDays(87));
        await using var h = IntegrationHarness.Create(build: b => b.AddCredentialExpiryWatch(o => o.Token = token));

        await h.StartHostedServicesAsync();
        var warned = await h.SettledAlertsAsync();

        var warning = Assert.Single(warned);
        Assert.Equal(AlertSeverity.Warning, warning.Severity);
        Assert.Equal(FailureKind.Auth, warning.Kind);
        Assert.Contains("2026-11-26 06:00:00Z", warning.Message, StringComparison.Ordinal);
        Assert.Equal(HealthState.Yellow, HealthAfterASuccess(h));

        // Just before the expiry nothing more; at it, one Critical; after it, nothing again.
        h.Clock.Advance(TimeSpan.FromDays(3) - TimeSpan.FromSeconds(1));
        Assert.Single(await h.SettledAlertsAsync());
        h.Clock.Advance(TimeSpan.FromSeconds(1));
        h.Clock.Advance(TimeSpan.FromDays(2));
        var all = await h.SettledAlertsAsync();

        Assert.Equal([AlertSeverity.Warning, AlertSeverity.Critical], all.Select(a => a.Severity));
        Assert.Contains("expired", all[1].Message, StringComparison.Ordinal);
        Assert.Equal(HealthState.Yellow, HealthAfterASuccess(h));
        Assert.Single(h.Logs.GetSnapshot(), r => r.Id.Id == 60);
        Assert.Single(h.Logs.GetSnapshot(), r => r.Id.Id == 61);
        AssertNoSecret(h, all, token);
    }

    [Fact]
    public async Task Start_JwtExpiringInTenDays_SilentUntilThreeDaysAhead()
    {
        string token = Jwt(Start + TimeSpan.FromDays(10));
        await using var h = IntegrationHarness.Create(build: b => b.AddCredentialExpiryWatch(o => o.Token = token));

        await h.StartHostedServicesAsync();
        Assert.Empty(await h.SettledAlertsAsync());
        Assert.Equal(HealthState.Green, HealthAfterASuccess(h));

        for (int day = 0; day < 7; day++)
        {
            h.Clock.Advance(TimeSpan.FromDays(1));
        }

        var alert = Assert.Single(await h.SettledAlertsAsync());
        Assert.Equal(AlertSeverity.Warning, alert.Severity);
        AssertNoSecret(h, [alert], token);
    }

    [Fact]
    public async Task Send_BearerJwtOnTheRequest_WarnedOnceAcrossCalls()
    {
        string token = Jwt(Start + TimeSpan.FromDays(2));
        await using var h = IntegrationHarness.Create(build: b => b.AddCredentialExpiryWatch());
        h.Server.Given(Request.Create().WithPath("/call")).RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json").WithBody("{}"));

        for (int i = 0; i < 3; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/call");
            request.Headers.Authorization = new("Bearer", token);
            using var response = await h.Clock.RunAsync(h.Client.SendAsync(request, TestContext.Current.CancellationToken));
        }

        var alert = Assert.Single(await h.SettledAlertsAsync());
        Assert.Equal(AlertSeverity.Warning, alert.Severity);
        Assert.Single(h.Logs.GetSnapshot(), r => r.Id.Id == 62); // logged once, not per call
        AssertNoSecret(h, [alert], token);
    }

    [Fact]
    public async Task Send_ShortLivedBearerJwt_NoWarningAheadCriticalOnlyWhenStillSentAfterExpiry()
    {
        string token = Jwt(Start + TimeSpan.FromHours(1), issuedAt: Start);
        await using var h = IntegrationHarness.Create(build: b => b.AddCredentialExpiryWatch());
        h.Server.Given(Request.Create().WithPath("/call")).RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json").WithBody("{}"));
        async Task SendAsync()
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/call");
            request.Headers.Authorization = new("Bearer", token);
            using var response = await h.Clock.RunAsync(h.Client.SendAsync(request, TestContext.Current.CancellationToken));
        }

        await SendAsync();
        h.Clock.Advance(TimeSpan.FromHours(2));
        Assert.Empty(await h.SettledAlertsAsync()); // an idle integration's routinely refreshed token is no news

        await SendAsync();

        var alert = Assert.Single(await h.SettledAlertsAsync());
        Assert.Equal(AlertSeverity.Critical, alert.Severity);
        AssertNoSecret(h, [alert], token);
    }

    [Theory]
    [InlineData("sk-plain-api-key-not-a-jwt")]
    [InlineData("abc.%%%not-base64%%%.def")]
    [InlineData("eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.c2ln")] // a JWT without exp
    public async Task Send_BearerThatIsNoJwtWithExp_IgnoredWithoutAnAlert(string token)
    {
        await using var h = IntegrationHarness.Create(build: b => b.AddCredentialExpiryWatch());
        h.Server.Given(Request.Create().WithPath("/call")).RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json").WithBody("{}"));
        using var request = new HttpRequestMessage(HttpMethod.Get, "/call");
        request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + token);

        using var response = await h.Clock.RunAsync(h.Client.SendAsync(request, TestContext.Current.CancellationToken));

        Assert.True(response.IsSuccessStatusCode);
        Assert.Empty(await h.SettledAlertsAsync());

        // The watch still reads the bearer tokens that follow: the one above was ignored, not the reading switched off.
        using var next = new HttpRequestMessage(HttpMethod.Get, "/call");
        next.Headers.TryAddWithoutValidation("Authorization", "Bearer " + Jwt(Start + TimeSpan.FromDays(2)));
        using var _ = await h.Clock.RunAsync(h.Client.SendAsync(next, TestContext.Current.CancellationToken));
        Assert.Equal(AlertSeverity.Warning, Assert.Single(await h.SettledAlertsAsync()).Severity);
    }

    [Fact]
    public async Task Send_RenewedBearerJwt_HealthBackToGreenAndNoCriticalForTheOldOne()
    {
        string old = Jwt(Start + TimeSpan.FromDays(1));
        string renewed = Jwt(Start + TimeSpan.FromDays(90));
        await using var h = IntegrationHarness.Create(build: b => b.AddCredentialExpiryWatch());
        h.Server.Given(Request.Create().WithPath("/call")).RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json").WithBody("{}"));
        async Task SendAsync(string token)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/call");
            request.Headers.Authorization = new("Bearer", token);
            using var response = await h.Clock.RunAsync(h.Client.SendAsync(request, TestContext.Current.CancellationToken));
        }

        await SendAsync(old);
        Assert.Equal(HealthState.Yellow, HealthAfterASuccess(h));
        await SendAsync(renewed);
        h.Clock.Advance(TimeSpan.FromDays(1));
        h.Clock.Advance(TimeSpan.FromDays(1));

        var alert = Assert.Single(await h.SettledAlertsAsync());
        Assert.Equal(AlertSeverity.Warning, alert.Severity);
        Assert.Equal(HealthState.Green, HealthAfterASuccess(h));
        Assert.Single(h.Logs.GetSnapshot(), r => r.Id.Id == 63);
        AssertNoSecret(h, [alert], old);
        AssertNoSecret(h, [alert], renewed);
    }

    [Fact]
    public async Task Send_GitHubTokenExpirationHeader_Warned()
    {
        await using var h = IntegrationHarness.Create(build: b => ApiProfileTests.Apply(b, "github"));
        h.Server.Given(Request.Create().WithPath("/user")).RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json")
            .WithHeader("github-authentication-token-expiration", "2026-11-25 06:00:00 UTC").WithBody("""{"login":"octocat"}"""));

        await h.GetAsync("/user");

        var alert = Assert.Single(await h.SettledAlertsAsync());
        Assert.Equal(AlertSeverity.Warning, alert.Severity);
        Assert.Contains("github-authentication-token-expiration", alert.Message, StringComparison.Ordinal);
        Assert.Contains("2026-11-25 06:00:00Z", alert.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Probe_MetaDebugToken_ExpiryWarnedAndInvalidTokenIsAuth()
    {
        long expiresAt = (Start + TimeSpan.FromDays(1)).ToUnixTimeSeconds();
        await using var h = IntegrationHarness.Create(build: b => ApiProfileTests.Apply(b, "meta", o =>
        {
            o.HealthProbe = true;
            o.Probe.InitialDelay = TimeSpan.Zero;
            o.Probe.Jitter = TimeSpan.Zero;
        }));
        h.Server.Given(Request.Create().WithPath("/debug_token")).RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json")
            .WithBody($$$"""{"data":{"app_id":"1","type":"USER","application":"Reports","data_access_expires_at":{{{expiresAt + 86400}}},"expires_at":{{{expiresAt}}},"is_valid":false,"scopes":["ads_read"],"user_id":"7"}}"""));
        var monitor = h.Provider.GetRequiredService<IIntegrationHealthMonitor>();

        await h.StartHostedServicesAsync();
        await Eventually.WaitUntilAsync(() => monitor.Get(IntegrationHarness.Name).LastResultAt is not null);

        Assert.Equal(FailureKind.Auth, monitor.Get(IntegrationHarness.Name).LastResult!.Value.Outcome.Kind);
        var alerts = await h.Alerts.WaitForAsync(a => a.Severity == AlertSeverity.Warning && a.Message.Contains("token inspection", StringComparison.Ordinal));
        Assert.Contains("2026-11-24 06:00:00Z", alerts.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Options_WarnBeforeNotPositive_FailValidationNamingTheKey()
    {
        var services = new ServiceCollection();
        services.AddResilientIntegration("crm").AddCredentialExpiryWatch(o => o.WarnBefore = TimeSpan.Zero);
        using var provider = services.BuildServiceProvider();

        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptionsMonitor<CredentialExpiryOptions>>().Get("crm"));

        Assert.Contains("'crm': CredentialExpiryOptions.WarnBefore", error.Message, StringComparison.Ordinal);
    }
}
