using System.Net.Http.Headers;
using System.Text;
using Resilient.Integrations.Classification;
using Resilient.Integrations.Tests.Support;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;

namespace Resilient.Integrations.Tests.Redaction;

public sealed class SecretLeakTests
{
    private const string BearerKey = "sk-live-SECRET";
    private const string AzureKey = "azkey0123456789abcdef";
    private const string QueryKey = "AIzaSyA1B2C3D4E5F6G7H8I9J0KLMNOPQRSTUV";
    private const string BodyKey = "body-secret-value-xyz";
    private const string RefreshToken = "rt-9f8e7d6c5b4a";

    private static readonly string[] Secrets = [BearerKey, AzureKey, QueryKey, BodyKey, RefreshToken];

    [Fact]
    public async Task Send_SecretsInHeadersQueryAndBodies_NeverReachLogsAlertsOrExceptions()
    {
        await using var h = IntegrationHarness.Create();
        h.Server.Given(Request.Create().WithPath("/v1/auth").UsingPost()).RespondWith(Response.Create().WithStatusCode(401)
            .WithHeader("Content-Type", "application/json")
            .WithBody($$$"""{"error":{"message":"Incorrect API key provided: {{{BearerKey}}}.","type":"invalid_request_error","code":"invalid_api_key"}}"""));
        h.Server.Given(Request.Create().WithPath("/v1/page").UsingPost()).RespondWith(Response.Create().WithStatusCode(200)
            .WithHeader("Content-Type", "text/html")
            .WithBody($"<html>Key {BearerKey} / {AzureKey} / {QueryKey} rejected. Bearer {BearerKey}</html>"));
        h.Server.Given(Request.Create().WithPath("/v1/echo").UsingPost()).RespondWith(Response.Create().WithStatusCode(200)
            .WithHeader("Content-Type", "application/json")
            .WithBody($$$"""{"error":{"message":"bad request"},"echo":{"api_key":"{{{BodyKey}}}","password":"{{{BodyKey}}}"}}"""));
        var client = h.Client;
        var errors = new List<Exception?>();

        foreach (var path in new[] { "/v1/auth", "/v1/page", "/v1/echo" })
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, $"{path}?key={QueryKey}&api_key={QueryKey}&refresh_token={RefreshToken}")
            {
                Content = new StringContent($$$"""{"api_key":"{{{BodyKey}}}","prompt":"hello"}""", Encoding.UTF8, "application/json"),
            };
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", BearerKey);
            request.Headers.Add("api-key", AzureKey);
            request.Headers.Add("Cookie", $"session={AzureKey}");
            var (_, error) = await RunAsync(h, client.SendAsync(request, TestContext.Current.CancellationToken));
            errors.Add(error);
        }

        Assert.Equal(
            [FailureKind.Auth, FailureKind.BadResponse, FailureKind.BadResponse],
            errors.Select(e => Assert.IsType<IntegrationFailureException>(e).Kind));
        // Auth, then BadResponse once: the second BadResponse is a repeat within the cooldown. Every call has
        // returned, so every alert is published: settle the queue and see exactly those.
        var alerts = await h.SettledAlertsAsync();
        Assert.Equal([FailureKind.Auth, FailureKind.BadResponse], alerts.Select(a => a.Kind));

        var logs = h.Logs.GetSnapshot();
        Assert.Contains(logs, r => r.Message.Contains("raw response", StringComparison.Ordinal));
        foreach (var secret in Secrets)
        {
            foreach (var record in logs)
            {
                Assert.DoesNotContain(secret, record.Message, StringComparison.Ordinal);
                Assert.DoesNotContain(secret, string.Join("|", record.StructuredState?.Select(kv => kv.Value) ?? []), StringComparison.Ordinal);
                Assert.DoesNotContain(secret, record.Exception?.ToString() ?? string.Empty, StringComparison.Ordinal);
            }

            foreach (var alert in alerts)
            {
                Assert.DoesNotContain(secret, alert.ToString(), StringComparison.Ordinal);
                Assert.DoesNotContain(secret, string.Join("|", alert.Details.Values), StringComparison.Ordinal);
            }

            foreach (var error in errors)
            {
                Assert.DoesNotContain(secret, error!.Message, StringComparison.Ordinal);
            }
        }
    }

    private static async Task<(HttpResponseMessage? Response, Exception? Error)> RunAsync(IntegrationHarness h, Task<HttpResponseMessage> call)
    {
        try
        {
            return (await h.Clock.RunAsync(call), null);
        }
        catch (Exception ex)
        {
            return (null, ex);
        }
    }
}
