using Microsoft.Extensions.DependencyInjection;
using Resilient.Integrations.Classification;
using Resilient.Integrations.Tests.Support;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;

namespace Resilient.Integrations.Tests.DependencyInjection;

/// <summary>
/// A host that puts the standard resilience handler on every client, as Aspire's service defaults do, still gets
/// exactly one resilience layer on an integration's client.
/// </summary>
public sealed class SingleResilienceLayerTests
{
    private static IntegrationHarness WithStandardHandlerOnEveryClient() =>
        IntegrationHarness.Create(services: s => s.ConfigureHttpClientDefaults(c => c.AddStandardResilienceHandler()));

    [Theory]
    [InlineData(503, FailureKind.Unavailable, 3)]   // ours alone: 1 + 2 retries, not (1 + 2) x 4
    [InlineData(401, FailureKind.Auth, 1)]          // never retried, not once per outer retry
    [InlineData(429, FailureKind.RateLimit, 4)]
    public async Task AddResilientIntegration_StandardHandlerOnEveryClient_OnlyTheIntegrationsPipelineRetries(int status, FailureKind kind, int attempts)
    {
        await using var h = WithStandardHandlerOnEveryClient();
        h.Server.Given(Request.Create().WithPath("/call")).RespondWith(Response.Create().WithStatusCode(status));

        var (_, error) = await h.GetAsync();

        Assert.Equal(kind, Assert.IsType<IntegrationFailureException>(error).Kind);
        Assert.Equal(attempts, h.UpstreamAttempts());
    }

    [Fact]
    public async Task AddResilientIntegration_StandardHandlerOnEveryClient_RemovalLoggedOnce()
    {
        await using var h = WithStandardHandlerOnEveryClient();
        h.Server.Given(Request.Create().WithPath("/call")).RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json").WithBody("{}"));

        var (response, _) = await h.GetAsync();

        Assert.True(response!.IsSuccessStatusCode);
        var removed = Assert.Single(h.Logs.GetSnapshot(), r => r.Message.Contains("removed a second resilience handler", StringComparison.Ordinal));
        Assert.Contains(IntegrationHarness.Name, removed.Message, StringComparison.Ordinal);
        Assert.Contains("ResilienceHandler", removed.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AddResilientIntegration_StandardHandlerOnEveryClient_OtherClientsKeepIt()
    {
        await using var h = IntegrationHarness.Create(services: s =>
        {
            s.ConfigureHttpClientDefaults(c => c.AddStandardResilienceHandler());
            s.AddHttpClient("other");
        });
        h.Clock.Deadlines.UnionWith([TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(30)]); // the standard handler's timeouts
        h.Server.Given(Request.Create().WithPath("/other")).RespondWith(Response.Create().WithStatusCode(503));
        var other = h.Provider.GetRequiredService<IHttpClientFactory>().CreateClient("other");

        using var response = await h.Clock.RunAsync(other.GetAsync(h.Server.Url + "/other", TestContext.Current.CancellationToken));

        Assert.Equal(4, h.UpstreamAttempts("/other"));   // the standard handler's own retries: 1 + 3
        Assert.DoesNotContain(h.Logs.GetSnapshot(), r => r.Message.Contains("removed a second resilience handler", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AddResilientIntegration_NoOtherHandler_NothingRemoved()
    {
        await using var h = IntegrationHarness.Create();
        h.Server.Given(Request.Create().WithPath("/call")).RespondWith(Response.Create().WithStatusCode(503));

        await h.GetAsync();

        Assert.Equal(3, h.UpstreamAttempts());
        Assert.DoesNotContain(h.Logs.GetSnapshot(), r => r.Message.Contains("removed a second resilience handler", StringComparison.Ordinal));
    }
}
