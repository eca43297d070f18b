using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Resilient.Integrations.DependencyInjection;
using Resilient.Integrations.Health;
using Resilient.Integrations.Policies;
using Resilient.Integrations.Providers;
using Resilient.Integrations.Tests.Support;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;

namespace Resilient.Integrations.Tests.Providers;

public sealed class ProviderProfileWiringTests
{
    private const string Key = "sk-wiring-test-secret-0123456789";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData("openai", "/v1/models", "Authorization", "Bearer " + Key, null, null)]
    [InlineData("azure", "/openai/models", "api-key", Key, "api-version", "2024-10-21")]
    [InlineData("anthropic", "/v1/models", "x-api-key", Key, "anthropic-version", "2023-06-01")]
    [InlineData("gemini", "/v1beta/models", "x-goog-api-key", Key, null, null)]
    public async Task Probe_ProfileDefault_ListsModelsWithTheKeyAndReportsHealthy(
        string provider, string path, string keyHeader, string keyValue, string? extraName, string? extraValue)
    {
        await using var h = IntegrationHarness.Create(build: b =>
        {
            void Options(AiProviderOptions o)
            {
                o.ApiKey = Key;
                o.Endpoint = new Uri("https://contoso.openai.azure.com/");
                o.Probe.InitialDelay = TimeSpan.Zero;
                o.Probe.Jitter = TimeSpan.Zero;
            }

            _ = provider switch
            {
                "openai" => b.ForOpenAI(Options),
                "azure" => b.ForAzureOpenAI(Options),
                "anthropic" => b.ForAnthropic(Options),
                _ => b.ForGemini(Options),
            };
        });
        h.Server.Given(Request.Create().WithPath(path).UsingGet())
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json").WithBody("""{"data":[]}"""));

        await h.StartHostedServicesAsync();

        var monitor = h.Provider.GetRequiredService<IIntegrationHealthMonitor>();
        await Eventually.WaitUntilAsync(() => monitor.Get(IntegrationHarness.Name).LastResultAt is not null);
        Assert.False(monitor.Get(IntegrationHarness.Name).LastResult!.Value.Outcome.IsFailure);

        var probe = Assert.Single(h.Server.LogEntries, e => e.RequestMessage!.Path == path).RequestMessage!;
        Assert.Equal(keyValue, probe.Headers![keyHeader].Single());
        if (extraName is not null)
        {
            string actual = probe.Headers!.TryGetValue(extraName, out var header) ? header.Single() : probe.Query![extraName].Single();
            Assert.Equal(extraValue, actual);
        }

        Assert.DoesNotContain(h.Logs.GetSnapshot(), r => r.Message.Contains(Key, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Send_CallerBringsItsOwnKey_ProfileKeyIsNotAdded()
    {
        await using var h = IntegrationHarness.Create(build: b => b.ForOpenAI(o => { o.ApiKey = Key; o.HealthProbe = false; }));
        h.Server.Given(Request.Create().WithPath("/call")).RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json").WithBody("{}"));
        using var request = new HttpRequestMessage(HttpMethod.Get, "/call");
        request.Headers.Authorization = new("Bearer", "sk-sdk-own-key");

        using var response = await h.Client.SendAsync(request, Ct);

        Assert.Equal("Bearer sk-sdk-own-key", h.Server.LogEntries.Single().RequestMessage!.Headers!["Authorization"].Single());
    }

    [Theory]
    [InlineData("/call?key=caller-own-key", false)]   // Gemini's own way of passing a key
    [InlineData("/call?sortkey=name", true)]          // a parameter that only ends in "key" is no credential
    public async Task Send_GeminiKeyInTheQuery_ProfileKeyAddedOnlyWithoutOne(string path, bool added)
    {
        await using var h = IntegrationHarness.Create(build: b => b.ForGemini(o => { o.ApiKey = Key; o.HealthProbe = false; }));
        h.Server.Given(Request.Create().WithPath("/call")).RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json").WithBody("{}"));

        using var response = await h.Client.GetAsync(path, Ct);

        Assert.Equal(added, h.Server.LogEntries.Single().RequestMessage!.Headers!.ContainsKey("x-goog-api-key"));
    }

    [Fact]
    public async Task Send_ToAnotherHost_ProfileKeyIsNeverAdded()
    {
        using var elsewhere = LoopbackServer.Start();
        elsewhere.Given(Request.Create().WithPath("/files/report.png")).RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json").WithBody("{}"));
        await using var h = IntegrationHarness.Create(build: b => b.ForOpenAI(o => { o.ApiKey = Key; o.HealthProbe = false; }));
        h.Server.Given(Request.Create().WithPath("/call")).RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json").WithBody("{}"));

        using var own = await h.Client.GetAsync("/call", Ct);
        using var other = await h.Client.GetAsync(new Uri(new Uri(elsewhere.Url!), "/files/report.png"), Ct);

        Assert.Equal("Bearer " + Key, h.Server.LogEntries.Single().RequestMessage!.Headers!["Authorization"].Single());
        Assert.False(elsewhere.LogEntries.Single().RequestMessage!.Headers!.ContainsKey("Authorization"));
    }

    [Fact]
    public void Options_ProfileDefaults_SuitLlmCallsAndPointAtTheProvider()
    {
        using var provider = Build(null, b => b.ForAnthropic(o => o.HealthProbe = false));

        var options = provider.GetRequiredService<IOptionsMonitor<ResilientIntegrationOptions>>().Get("llm");

        Assert.Equal(TimeSpan.FromMinutes(3), options.AttemptTimeout);
        Assert.Equal(TimeSpan.FromMinutes(8), options.TotalTimeout);
        Assert.Equal(new Uri("https://api.anthropic.com/"), options.BaseAddress);
    }

    [Fact]
    public void Options_ConfigurationAndConfigure_WinOverTheProfile()
    {
        var configuration = new Dictionary<string, string?> { ["ResilientIntegrations:llm:AttemptTimeout"] = "00:01:30" };
        // Configure comes first on purpose: the profile's defaults must still not overwrite it.
        using var provider = Build(configuration, b => b.Configure(o => o.TotalTimeout = TimeSpan.FromMinutes(20)).ForOpenAI(o => o.HealthProbe = false));

        var options = provider.GetRequiredService<IOptionsMonitor<ResilientIntegrationOptions>>().Get("llm");

        Assert.Equal(TimeSpan.FromSeconds(90), options.AttemptTimeout);
        Assert.Equal(TimeSpan.FromMinutes(20), options.TotalTimeout);
    }

    [Fact]
    public void ForAzureOpenAI_NoEndpoint_FailsNamingTheOption()
    {
        var services = new ServiceCollection();

        var error = Assert.Throws<ArgumentException>(() => services.AddResilientIntegration("azure").ForAzureOpenAI(o => o.ApiKey = Key));

        Assert.Contains("AiProviderOptions.Endpoint", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ForOpenAI_ProbeWithoutKey_FailsNamingTheOption()
    {
        var services = new ServiceCollection();

        var error = Assert.Throws<ArgumentException>(() => services.AddResilientIntegration("openai").ForOpenAI());

        Assert.Contains("AiProviderOptions.ApiKey", error.Message, StringComparison.Ordinal);
    }

    private static ServiceProvider Build(IDictionary<string, string?>? configuration, Action<IResilientIntegrationBuilder> build)
    {
        var services = new ServiceCollection();
        services.AddLogging();
        if (configuration is not null)
        {
            services.AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(configuration).Build());
        }

        build(services.AddResilientIntegration("llm"));
        return services.BuildServiceProvider();
    }
}
