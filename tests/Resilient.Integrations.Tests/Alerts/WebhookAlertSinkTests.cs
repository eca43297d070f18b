using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Resilient.Integrations.Alerts;
using Resilient.Integrations.Tests.Support;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;

namespace Resilient.Integrations.Tests.Alerts;

public sealed class WebhookAlertSinkTests
{
    [Fact]
    public async Task SendAsync_AuthFailure_PostsSlackCompatibleText()
    {
        await using var h = IntegrationHarness.Create(build: b => b.AddWebhookAlertSink(o => o.Url = new Uri(LoopbackUrl(b) + "/hooks/T000/B000/XXXX")));
        h.Server.Given(Request.Create().WithPath("/hooks/*").UsingPost()).RespondWith(Response.Create().WithStatusCode(200).WithBody("ok"));
        h.Server.Given(Request.Create().WithPath("/call").UsingGet()).RespondWith(Response.Create().WithStatusCode(401));

        await h.GetAsync();
        await h.Alerts.WaitForAsync(1);
        await Eventually.WaitUntilAsync(() => h.Server.LogEntries.Any(e => e.RequestMessage?.Path?.StartsWith("/hooks/", StringComparison.Ordinal) == true));

        var post = h.Server.LogEntries.Single(e => e.RequestMessage!.Path!.StartsWith("/hooks/", StringComparison.Ordinal)).RequestMessage!;
        using var json = JsonDocument.Parse(post.Body!);
        string text = json.RootElement.GetProperty("text").GetString()!;
        Assert.Contains("[Critical] crm", text, StringComparison.Ordinal);
        Assert.Contains("Auth", text, StringComparison.Ordinal);
        Assert.StartsWith("application/json", post.Headers!["Content-Type"][0], StringComparison.Ordinal);
    }

    [Fact]
    public async Task SendAsync_BelowMinimumSeverity_PostsNothing()
    {
        await using var h = IntegrationHarness.Create(build: b => b.AddWebhookAlertSink(o =>
        {
            o.Url = new Uri(LoopbackUrl(b) + "/hooks/x");
            o.MinimumSeverity = AlertSeverity.Critical;
        }));
        h.Server.Given(Request.Create().WithPath("/hooks/*").UsingPost()).RespondWith(Response.Create().WithStatusCode(200));
        h.Server.Given(Request.Create().WithPath("/call").UsingGet()).RespondWith(Response.Create().WithStatusCode(504));

        await h.GetAsync();
        await h.Alerts.WaitForAsync(1);
        await h.SettledAlertsAsync();

        Assert.DoesNotContain(h.Server.LogEntries, e => e.RequestMessage?.Path?.StartsWith("/hooks/", StringComparison.Ordinal) == true);
    }

    [Fact]
    public async Task SendAsync_WebhookAnswersError_CountedAsSinkFailureWithoutLeakingUrl()
    {
        await using var h = IntegrationHarness.Create(build: b => b.AddWebhookAlertSink(o => o.Url = new Uri(LoopbackUrl(b) + "/hooks/SECRETPATH")));
        using var failures = h.Metric("resilient_integrations.alerts.sink_failures");
        h.Server.Given(Request.Create().WithPath("/hooks/*").UsingPost()).RespondWith(Response.Create().WithStatusCode(500));
        h.Server.Given(Request.Create().WithPath("/call").UsingGet()).RespondWith(Response.Create().WithStatusCode(401));

        await h.GetAsync();
        await failures.WaitForMeasurementsAsync(1, Eventually.Deadline);

        Assert.DoesNotContain(h.Logs.GetSnapshot(), r => r.Message.Contains("SECRETPATH", StringComparison.Ordinal));
        Assert.Contains(h.Logs.GetSnapshot(), r => r.Message.Contains("WebhookAlertSink failed", StringComparison.Ordinal));
    }

    [Fact]
    public void AddWebhookAlertSink_RelativeUrl_FailsAtStartup()
    {
        var services = new ServiceCollection();
        services.AddResilientIntegration("crm").AddWebhookAlertSink(o => o.Url = new Uri("/hooks", UriKind.Relative));
        using var provider = services.BuildServiceProvider();

        var ex = Assert.Throws<Microsoft.Extensions.Options.OptionsValidationException>(
            () => provider.GetRequiredService<Microsoft.Extensions.Options.IStartupValidator>().Validate());
        Assert.Contains("Webhook:Url", ex.Message, StringComparison.Ordinal);
    }

    // The harness's WireMock server doubles as the webhook receiver; its URL is set before the provider is built.
    private static string LoopbackUrl(Resilient.Integrations.DependencyInjection.IResilientIntegrationBuilder builder)
    {
        var sp = builder.Services.BuildServiceProvider();
        var options = sp.GetRequiredService<Microsoft.Extensions.Options.IOptionsMonitor<Resilient.Integrations.Policies.ResilientIntegrationOptions>>().Get(builder.Name);
        return options.BaseAddress!.ToString().TrimEnd('/');
    }
}
