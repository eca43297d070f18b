using System.Net.Http.Headers;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Resilient.Integrations.Policies;
using Resilient.Integrations.Tests.Support;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;

namespace Resilient.Integrations.Tests.Redaction;

/// <summary>
/// The integration's own client at Trace, read the way OpenTelemetry, Serilog or Application Insights read it:
/// message, every state and scope value (enumerables too) and exceptions hold no credential.
/// </summary>
public sealed class HttpClientLogRedactionTests
{
    private const string ProfileKey = "sk-profile-SECRET-0123456789";
    private const string CallerBearer = "caller-bearer-SECRET-42";
    private const string CallerApiKey = "caller-apikey-SECRET-43";
    private const string CallerXApiKey = "caller-xapikey-SECRET-44";
    private const string CookieSecret = "cookie-SECRET-45";

    private static readonly string[] Secrets = [ProfileKey, CallerBearer, CallerApiKey, CallerXApiKey, CookieSecret];

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData("openai", "Authorization")]
    [InlineData("azure", "api-key")]
    [InlineData("anthropic", "x-api-key")]
    [InlineData("caller", "x-api-key")]
    public async Task Send_TraceLoggingWithStructuredState_NoSecretInMessageStateScopeOrException(string source, string header)
    {
        var capture = new StructuredLogCapture();
        await using var h = IntegrationHarness.Create(
            build: b => _ = source switch
            {
                "openai" => b.ForOpenAI(Profile),
                "azure" => b.ForAzureOpenAI(Profile),
                "anthropic" => b.ForAnthropic(Profile),
                _ => b,
            },
            services: s => s.AddLogging(l => l.AddProvider(capture).SetMinimumLevel(LogLevel.Trace)));
        h.Server.Given(Request.Create().WithPath("/ok")).RespondWith(Response.Create().WithStatusCode(200)
            .WithHeader("Content-Type", "application/json").WithHeader("Set-Cookie", $"session={CookieSecret}; HttpOnly").WithBody("{}"));
        h.Server.Given(Request.Create().WithPath("/down")).RespondWith(Response.Create().WithStatusCode(503));
        h.Server.Given(Request.Create().WithPath("/auth")).RespondWith(Response.Create().WithStatusCode(401)
            .WithHeader("Content-Type", "application/json").WithBody("""{"error":{"code":"invalid_api_key"}}"""));

        foreach (var (method, path) in new[] { (HttpMethod.Get, "/ok"), (HttpMethod.Post, "/down"), (HttpMethod.Get, "/auth") })
        {
            using var request = new HttpRequestMessage(method, path);
            if (method == HttpMethod.Post)
            {
                request.Content = new StringContent("""{"name":"Ada"}""", Encoding.UTF8, "application/json");
                request.SafeToRepeat(); // retried, so every attempt's logs are scanned too
            }

            if (source == "caller")
            {
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", CallerBearer);
                request.Headers.Add("api-key", CallerApiKey);
                request.Headers.Add("x-api-key", CallerXApiKey);
            }

            try
            {
                using var response = await h.Clock.RunAsync(h.Client.SendAsync(request, Ct));
            }
            catch (IntegrationFailureException)
            {
                // /down and /auth fail by design: their logs are the point.
            }
        }

        // The secrets were on the wire, the 503 was retried, and the client's headers were logged, masked, at Trace.
        Assert.Contains(h.Server.LogEntries, e => e.RequestMessage!.Headers!.TryGetValue(header, out var v) && Secrets.Any(s => v.Single().Contains(s, StringComparison.Ordinal)));
        Assert.Equal(3, h.UpstreamAttempts("/down"));
        await h.SettledAlertsAsync(); // the logging alert sink writes in the background: its lines are scanned too
        var logs = capture.Entries;
        Assert.Contains(logs, e => e.Level == LogLevel.Trace && e.Category.StartsWith("System.Net.Http.HttpClient.crm", StringComparison.Ordinal)
            && e.Message.Contains(header + ": ***", StringComparison.OrdinalIgnoreCase));
        foreach (var entry in logs)
        {
            foreach (var secret in Secrets)
            {
                Assert.False(entry.ToString().Contains(secret, StringComparison.Ordinal), $"'{secret}' leaked in: {entry}");
            }
        }
    }

    [Fact]
    public async Task Send_InformationLogging_OneLogicalLineAroundTheCallAndOnePerAttempt()
    {
        var capture = new StructuredLogCapture();
        await using var h = IntegrationHarness.Create(services: s => s.AddLogging(l => l.AddProvider(capture).SetMinimumLevel(LogLevel.Information)));
        h.Server.Given(Request.Create().WithPath("/down")).RespondWith(Response.Create().WithStatusCode(503));

        var (_, error) = await h.GetAsync("/down");

        Assert.IsType<IntegrationFailureException>(error);
        Assert.Equal(3, h.UpstreamAttempts("/down"));
        var lines = capture.Entries.Where(e => e.Category.StartsWith("System.Net.Http.HttpClient.crm.", StringComparison.Ordinal)).ToList();
        const string Logical = "System.Net.Http.HttpClient.crm.LogicalHandler", Attempt = "System.Net.Http.HttpClient.crm.ClientHandler";
        // The logical call opens and closes the log, and each of its three attempts sits inside it.
        Assert.Equal(Logical, lines[0].Category);
        Assert.StartsWith("Sending HTTP request GET", lines[0].Message, StringComparison.Ordinal);
        Assert.Equal(Logical, lines[^1].Category);
        Assert.Contains("failed after", lines[^1].Message, StringComparison.Ordinal);
        Assert.Equal(2, lines.Count(e => e.Category == Logical));
        Assert.Equal(3, lines.Count(e => e.Category == Attempt && e.Message.StartsWith("Sending HTTP request GET", StringComparison.Ordinal)));
        Assert.Equal(3, lines.Count(e => e.Category == Attempt && e.Message.StartsWith("Received HTTP response headers", StringComparison.Ordinal) && e.Message.EndsWith("- 503", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Send_HttpClientCategoryAboveInformation_NoLineAndTheCallAnswers()
    {
        var capture = new StructuredLogCapture();
        await using var h = IntegrationHarness.Create(services: s => s.AddLogging(l => l.AddProvider(capture)
            .SetMinimumLevel(LogLevel.Trace).AddFilter("System.Net.Http.HttpClient", LogLevel.Warning)));
        h.Server.Given(Request.Create().WithPath("/ok")).RespondWith(Response.Create().WithStatusCode(200)
            .WithHeader("Content-Type", "application/json").WithBody("""{"id":1}"""));

        var (response, error) = await h.GetAsync("/ok");

        Assert.Null(error);
        Assert.Equal("""{"id":1}""", await response!.Content.ReadAsStringAsync(Ct));
        Assert.DoesNotContain(capture.Entries, e => e.Category.StartsWith("System.Net.Http.HttpClient", StringComparison.Ordinal));
        Assert.Contains(capture.Entries, e => e.Category == "Polly"); // the provider was listening: only the category was quiet
    }

    [Fact]
    public async Task Send_RemoveAllLoggersAfterTheIntegration_ItsLoggersRemovedToo()
    {
        // As with any IHttpClientFactory logger: a later RemoveAllLoggers (extended HTTP logging calls it) takes them off.
        var capture = new StructuredLogCapture();
        await using var h = IntegrationHarness.Create(
            build: b => b.HttpClientBuilder.RemoveAllLoggers(),
            services: s => s.AddLogging(l => l.AddProvider(capture).SetMinimumLevel(LogLevel.Trace)));
        h.Server.Given(Request.Create().WithPath("/ok")).RespondWith(Response.Create().WithStatusCode(200)
            .WithHeader("Content-Type", "application/json").WithBody("{}"));

        var (response, error) = await h.GetAsync("/ok");

        Assert.Null(error);
        Assert.Equal(System.Net.HttpStatusCode.OK, response!.StatusCode);
        Assert.DoesNotContain(capture.Entries, e => e.Category.StartsWith("System.Net.Http.HttpClient", StringComparison.Ordinal));
        Assert.Contains(capture.Entries, e => e.Category == "Polly"); // the provider was listening
    }

    [Fact]
    public void IsAvailable_ThisHttpClientFactory_LoggersAddedWithoutItsTimingHandler()
    {
        // The factory's list of loggers gone would silently put its always-timing handler back: this says so first.
        Assert.True(Resilient.Integrations.Redaction.Internal.RedactingLoggingHandler.IsAvailable);
    }

    private static void Profile(Resilient.Integrations.Providers.AiProviderOptions o)
    {
        o.ApiKey = ProfileKey;
        o.Endpoint = new Uri("https://contoso.openai.azure.com/");
        o.HealthProbe = false;
    }
}
