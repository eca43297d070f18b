using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Resilient.Integrations.Alerts;
using Resilient.Integrations.Tests.Support;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;

namespace Resilient.Integrations.Tests.Alerts;

/// <summary>
/// The Teams sink against a loopback stand-in for a Workflows webhook ("When a Teams webhook request is received"),
/// which takes a message whose one attachment is an Adaptive Card, not the retired connectors' MessageCard:
/// https://learn.microsoft.com/en-us/microsoftteams/platform/webhooks-and-connectors/how-to/connectors-using
/// and the card schema, https://adaptivecards.io/explorer/AdaptiveCard.html.
/// </summary>
public sealed class TeamsAlertSinkTests
{
    // The shape of a Workflows trigger address: the signature (sig=) is what makes it a secret.
    private const string WorkflowPath = "/workflows/0f1e2d3c/triggers/manual/paths/invoke";
    private const string Signature = "S1GNATUREs3cr3tVALUE";

    private static string WorkflowUrl(Resilient.Integrations.DependencyInjection.IResilientIntegrationBuilder b) =>
        HarnessUrl.Of(b) + WorkflowPath + "?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=" + Signature;

    [Fact]
    public async Task SendAsync_AuthFailure_PostsAdaptiveCardMessage()
    {
        await using var h = IntegrationHarness.Create(build: b => b.AddTeamsAlertSink(o => o.Url = new Uri(WorkflowUrl(b))));
        h.Server.Given(Request.Create().WithPath("/workflows/*").UsingPost()).RespondWith(Response.Create().WithStatusCode(202));
        h.Server.Given(Request.Create().WithPath("/call").UsingGet()).RespondWith(Response.Create().WithStatusCode(401));

        await h.GetAsync();
        await Eventually.WaitUntilAsync(() => h.Server.LogEntries.Any(e => e.RequestMessage?.Path == WorkflowPath));

        var post = h.Server.LogEntries.First(e => e.RequestMessage!.Path == WorkflowPath).RequestMessage!;
        Assert.StartsWith("application/json", post.Headers!["Content-Type"][0], StringComparison.Ordinal);
        using var json = JsonDocument.Parse(post.Body!);
        var message = json.RootElement;
        Assert.Equal("message", message.GetProperty("type").GetString());
        var attachment = Assert.Single(message.GetProperty("attachments").EnumerateArray());
        Assert.Equal("application/vnd.microsoft.card.adaptive", attachment.GetProperty("contentType").GetString());

        var card = attachment.GetProperty("content");
        Assert.Equal("AdaptiveCard", card.GetProperty("type").GetString());
        Assert.Contains(card.GetProperty("version").GetString(), new[] { "1.4", "1.5" });
        Assert.Equal("http://adaptivecards.io/schemas/adaptive-card.json", card.GetProperty("$schema").GetString());
        Assert.False(message.TryGetProperty("@type", out _)); // no MessageCard

        var body = card.GetProperty("body").EnumerateArray().ToList();
        var texts = body.Where(e => e.GetProperty("type").GetString() == "TextBlock").Select(e => e.GetProperty("text").GetString()!).ToList();
        Assert.Equal("Critical: crm", texts[0]);
        Assert.Contains(texts, t => t.Contains("Auth failure on GET /call", StringComparison.Ordinal));
        var facts = body.Single(e => e.GetProperty("type").GetString() == "FactSet").GetProperty("facts").EnumerateArray()
            .ToDictionary(f => f.GetProperty("title").GetString()!, f => f.GetProperty("value").GetString()!);
        Assert.Equal("Auth", facts["Failure kind"]);
        Assert.Equal("Critical", facts["Severity"]);
        Assert.DoesNotContain(Signature, post.Body!, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SendAsync_BelowMinimumSeverity_PostsNothing()
    {
        await using var h = IntegrationHarness.Create(build: b => b.AddTeamsAlertSink(o =>
        {
            o.Url = new Uri(WorkflowUrl(b));
            o.MinimumSeverity = AlertSeverity.Critical;
        }));
        h.Server.Given(Request.Create().WithPath("/workflows/*").UsingPost()).RespondWith(Response.Create().WithStatusCode(202));
        h.Server.Given(Request.Create().WithPath("/call").UsingGet()).RespondWith(Response.Create().WithStatusCode(504));

        await h.GetAsync();
        await h.Alerts.WaitForAsync(1);
        await h.SettledAlertsAsync();

        Assert.DoesNotContain(h.Server.LogEntries, e => e.RequestMessage?.Path == WorkflowPath);
    }

    [Fact]
    public async Task SendAsync_WorkflowAnswersError_CountedAsSinkFailureWithoutLeakingSignature()
    {
        await using var h = IntegrationHarness.Create(build: b => b.AddTeamsAlertSink(o => o.Url = new Uri(WorkflowUrl(b))));
        using var failures = h.Metric("resilient_integrations.alerts.sink_failures");
        h.Server.Given(Request.Create().WithPath("/workflows/*").UsingPost()).RespondWith(Response.Create().WithStatusCode(500));
        h.Server.Given(Request.Create().WithPath("/call").UsingGet()).RespondWith(Response.Create().WithStatusCode(401));

        await h.GetAsync();
        await failures.WaitForMeasurementsAsync(1, Eventually.Deadline);

        Assert.Contains(h.Logs.GetSnapshot(), r => r.Message.Contains("TeamsAlertSink failed", StringComparison.Ordinal));
        Assert.DoesNotContain(h.Logs.GetSnapshot(), r => r.Message.Contains(Signature, StringComparison.Ordinal));
    }

    [Fact]
    public void AddTeamsAlertSink_RelativeUrl_FailsAtStartupNamingTheKey()
    {
        var services = new ServiceCollection();
        services.AddResilientIntegration("crm").AddTeamsAlertSink(o => o.Url = new Uri("/workflows", UriKind.Relative));
        using var provider = services.BuildServiceProvider();

        var ex = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IStartupValidator>().Validate());
        Assert.Contains("Alerts:Teams:Url", ex.Message, StringComparison.Ordinal);
    }
}
