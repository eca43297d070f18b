using System.Net;
using System.Security.Claims;
using System.Text;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Microsoft.Playwright;
using Resilient.Integrations.Classification;
using Resilient.Integrations.Deferral;
using Resilient.Integrations.Health;
using Resilient.Integrations.Tests.Support;

namespace Resilient.Integrations.Tests.AspNetCore;

/// <summary>The status page in a real app on Kestrel, read and used through a real headless browser.</summary>
public sealed class StatusPageTests
{
    private const string Operator = "X-Test-Operator";
    private const string Secret = "sk-live-0123456789abcdef";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>An app with one Green, one Red and one Yellow integration, two queued writes and one dead letter.</summary>
    private static async Task<(WebApplication App, string Address, InMemoryDeferredWriteStore Store, long DeadLetter)> StartAppAsync()
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 12, 2, 6, 0, 0, TimeSpan.Zero));
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton<TimeProvider>(clock);
        builder.Services.AddAntiforgery();
        builder.Services.AddAuthentication("test").AddScheme<AuthenticationSchemeOptions, HeaderAuthentication>("test", null);
        builder.Services.AddAuthorization(o => o.AddPolicy("operators", p => p.RequireAuthenticatedUser()));
        builder.Services.AddSingleton<IDeferredWriteStore>(sp => new InMemoryDeferredWriteStore(sp.GetRequiredService<TimeProvider>()));
        foreach (string name in new[] { "billing", "crm", "mailer" })
        {
            builder.Services.AddResilientIntegration(name, o =>
            {
                o.BaseAddress = new Uri("http://127.0.0.1:9/");
                o.Deferral.DeferWrites = true;
            });
        }

        var app = builder.Build();
        app.UseAuthentication();
        app.UseAuthorization();
        app.MapResilientIntegrations("/resilience", o => o.AuthorizationPolicy = "operators");
        await app.StartAsync(Ct);

        var store = (InMemoryDeferredWriteStore)app.Services.GetRequiredService<IDeferredWriteStore>();
        await store.EnqueueAsync(Write(clock, "/contacts", "queued-1"), Ct);
        long dead = await store.EnqueueAsync(Write(clock, $"/contacts?api_key={Secret}", "dead-1"), Ct);
        await store.DeadLetterAsync(dead, "Rejected (HTTP 422): email is invalid", Ct);
        clock.Advance(TimeSpan.FromMinutes(42)); // the writes have waited a while; health below is fresh

        var health = app.Services.GetRequiredService<IIntegrationHealthMonitor>();
        health.Report("crm", HealthProbeResult.Healthy(TimeSpan.FromMilliseconds(80)));
        health.Report("billing", new HealthProbeResult(new FailureClassification(FailureKind.Auth) { StatusCode = HttpStatusCode.Unauthorized, Reason = "token expired" }, TimeSpan.FromMilliseconds(90)));
        for (int i = 0; i < 5; i++)
        {
            health.Report("mailer", new HealthProbeResult(new FailureClassification(FailureKind.RateLimit) { StatusCode = HttpStatusCode.TooManyRequests }, TimeSpan.FromMilliseconds(50)));
        }

        string address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return (app, address, store, dead);
    }

    private static DeferredWrite Write(TimeProvider clock, string uri, string key) => new()
    {
        Integration = "crm",
        Method = "POST",
        Uri = new Uri(uri, UriKind.Relative),
        Headers = [new("Content-Type", "application/json")],
        Body = Encoding.UTF8.GetBytes("""{"email":"ada@"}"""),
        IdempotencyKey = key,
        EnqueuedAt = clock.GetUtcNow(),
        NextAttemptAt = clock.GetUtcNow().AddHours(1),
    };

    [Fact]
    public async Task Page_InABrowser_ShowsEachStateInWordsAndARequeueClickedReachesTheStore()
    {
        var (app, address, store, dead) = await StartAppAsync();
        await using var _ = app;
        var (playwright, browser) = await Browser.LaunchAsync();
        using var __ = playwright;
        await using var ___ = browser;
        var context = await browser.NewContextAsync(new BrowserNewContextOptions { ExtraHTTPHeaders = new Dictionary<string, string> { [Operator] = "ada" } });
        var page = await context.NewPageAsync();

        var response = await page.GotoAsync(address + "/resilience?refresh=off");
        Assert.Equal(200, response!.Status);
        Assert.Contains("✓ Green", await page.Locator("tr", new() { HasText = "crm" }).First.InnerTextAsync(), StringComparison.Ordinal);
        Assert.Contains("✕ Red", await page.Locator("tr", new() { HasText = "billing" }).First.InnerTextAsync(), StringComparison.Ordinal);
        Assert.Contains("! Yellow", await page.Locator("tr", new() { HasText = "mailer" }).First.InnerTextAsync(), StringComparison.Ordinal);
        Assert.Contains("email is invalid", await page.ContentAsync(), StringComparison.Ordinal);
        Assert.DoesNotContain(Secret, await page.ContentAsync(), StringComparison.Ordinal);
        if (Environment.GetEnvironmentVariable("RESILIENT_SCREENSHOT") is { Length: > 0 } screenshot)
        {
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = screenshot, FullPage = true });
        }

        await page.GetByRole(AriaRole.Button, new() { Name = $"Requeue {dead}" }).ClickAsync();
        await page.WaitForURLAsync("**/resilience?done=requeued*");

        Assert.Contains("was requeued", await page.Locator("p[role=status]").InnerTextAsync(), StringComparison.Ordinal);
        var stats = await store.GetStatsAsync("crm", Ct);
        Assert.Equal(0, stats.DeadLettered);
        Assert.Equal(2, stats.Depth);
    }

    [Fact]
    public async Task Page_Anonymous_RefusedAndActionsNeedTheFormsToken()
    {
        var (app, address, store, dead) = await StartAppAsync();
        await using var _ = app;
        using var http = new HttpClient { BaseAddress = new Uri(address) };

        var anonymous = await http.GetAsync("/resilience", Ct);
        var anonymousJson = await http.GetAsync("/resilience/status.json", Ct);
        using var forged = new HttpRequestMessage(HttpMethod.Post, "/resilience/dead-letters/requeue")
        {
            Content = new FormUrlEncodedContent([new("integration", "crm"), new("id", dead.ToString(System.Globalization.CultureInfo.InvariantCulture))]),
        };
        forged.Headers.Add(Operator, "mallory");
        var withoutToken = await http.SendAsync(forged, Ct);

        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, anonymousJson.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, withoutToken.StatusCode);
        Assert.Equal(1, (await store.GetStatsAsync("crm", Ct)).DeadLettered);
    }

    [Fact]
    public async Task Json_Operator_ListsEveryIntegrationWithStateQueueAndAlertsWithoutSecrets()
    {
        var (app, address, _, _) = await StartAppAsync();
        await using var __ = app;
        using var http = new HttpClient { BaseAddress = new Uri(address) };
        http.DefaultRequestHeaders.Add(Operator, "ada");

        string json = await http.GetStringAsync("/resilience/status.json", Ct);
        using var document = System.Text.Json.JsonDocument.Parse(json);
        var integrations = document.RootElement.GetProperty("integrations").EnumerateArray().ToDictionary(i => i.GetProperty("name").GetString()!, i => i);

        Assert.Equal("Red", integrations["billing"].GetProperty("state").GetString());
        Assert.Equal("Green", integrations["crm"].GetProperty("state").GetString());
        Assert.Equal("Yellow", integrations["mailer"].GetProperty("state").GetString());
        Assert.Equal(1, integrations["crm"].GetProperty("queue").GetProperty("deadLettered").GetInt32());
        Assert.Contains(document.RootElement.GetProperty("recentAlerts").EnumerateArray(), a => a.GetProperty("integration").GetString() == "billing" && a.GetProperty("severity").GetString() == "Critical");
        Assert.DoesNotContain(Secret, json, StringComparison.Ordinal);
    }

    [Fact]
    public void MapResilientIntegrations_NoPolicyNorAnonymousAllowed_FailsAtStartUpNamingTheOption()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Services.AddAntiforgery();
        var app = builder.Build();

        var error = Assert.Throws<InvalidOperationException>(() => app.MapResilientIntegrations());

        Assert.Contains("AuthorizationPolicy", error.Message, StringComparison.Ordinal);
        Assert.Contains("AllowAnonymous", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void MapResilientIntegrations_NoAntiforgery_FailsAtStartUpSayingWhatToAdd()
    {
        var app = WebApplication.CreateSlimBuilder().Build();

        var error = Assert.Throws<InvalidOperationException>(() => app.MapResilientIntegrations(configure: o => o.AuthorizationPolicy = "operators"));

        Assert.Contains("AddAntiforgery", error.Message, StringComparison.Ordinal);
    }

    /// <summary>Signs in whoever sends the operator header; anyone else is anonymous (and challenged with 401).</summary>
    private sealed class HeaderAuthentication(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder)
        : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
    {
        protected override Task<AuthenticateResult> HandleAuthenticateAsync() =>
            Task.FromResult(Request.Headers.TryGetValue(Operator, out var user)
                ? AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(new ClaimsIdentity([new Claim(ClaimTypes.Name, user.ToString())], "test")), "test"))
                : AuthenticateResult.NoResult());
    }
}
