using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Resilient.Integrations.Classification;
using Resilient.Integrations.Policies;
using Resilient.Integrations.Tests.Support;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;

using static Resilient.Integrations.Tests.Support.ConfiguredIntegration;

namespace Resilient.Integrations.Tests.DependencyInjection;

public sealed class RegistrationTests
{
    [Fact]
    public void Configure_ListsInConfiguration_ReplaceTheDefaultsButSensitiveHeadersAdd()
    {
        var options = OptionsFrom(new Dictionary<string, string?>
        {
            ["ResilientIntegrations:crm:Fallback:ServeOn:0"] = "Timeout",
            ["ResilientIntegrations:crm:Fallback:CacheableMethods:0"] = "GET",
            ["ResilientIntegrations:crm:Deferral:DeferOn:0"] = "Unavailable",
            ["ResilientIntegrations:crm:SensitiveHeaders:0"] = "X-Tenant-Secret",
        });

        Assert.Equal([FailureKind.Timeout], options.Fallback.ServeOn);
        Assert.Equal(["GET"], options.Fallback.CacheableMethods);
        Assert.Equal([FailureKind.Unavailable], options.Deferral.DeferOn);
        Assert.Contains("X-Tenant-Secret", options.SensitiveHeaders);
        Assert.Contains("Authorization", options.SensitiveHeaders);
    }

    [Theory]
    [InlineData("Timeout, unavailable", new[] { FailureKind.Timeout, FailureKind.Unavailable })]
    [InlineData("", new FailureKind[0])] // an empty value empties the list
    public void Configure_ListAsOnePlainValue_ReadAsCommaSeparated(string value, FailureKind[] expected)
    {
        var options = OptionsFrom(new Dictionary<string, string?>
        {
            ["ResilientIntegrations:crm:Fallback:ServeOn"] = value, // as Fallback__ServeOn in the environment
        });

        Assert.Equal(expected, options.Fallback.ServeOn);
    }

    [Fact]
    public void Validate_UnknownKindInAPlainList_FailsAtStartupNamingTheKey()
    {
        var ex = StartupFailure(new Dictionary<string, string?> { ["ResilientIntegrations:crm:Deferral:DeferOn"] = "Timeout,Sometimes" });

        Assert.Contains("ResilientIntegrations:crm:Deferral:DeferOn has 'Sometimes', which is not a FailureKind.", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_NegativeDelayInConfiguration_FailsAtStartupNamingTheKey()
    {
        var ex = StartupFailure(new Dictionary<string, string?> { ["ResilientIntegrations:crm:Unavailable:BaseDelay"] = "-00:00:01" });

        Assert.Contains("ResilientIntegrations:crm:Unavailable:BaseDelay must not be negative", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_AttemptTimeoutAboveTotal_FailsAtStartupNamingBothKeys()
    {
        var ex = StartupFailure(new Dictionary<string, string?>
        {
            ["ResilientIntegrations:crm:AttemptTimeout"] = "00:05:00",
            ["ResilientIntegrations:crm:TotalTimeout"] = "00:01:00",
        });

        Assert.Contains(
            "ResilientIntegrations:crm:AttemptTimeout must not exceed ResilientIntegrations:crm:TotalTimeout (00:01:00) (was 00:05:00).",
            ex.Message,
            StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_RefreshIntervalNotBelowMaxStaleness_FailsAtStartupNamingBothKeys()
    {
        var ex = StartupFailure(new Dictionary<string, string?>
        {
            ["ResilientIntegrations:crm:Fallback:RefreshInterval"] = "01:00:00",
            ["ResilientIntegrations:crm:Fallback:MaxStaleness"] = "00:30:00",
        });

        Assert.Contains(
            "ResilientIntegrations:crm:Fallback:RefreshInterval must be below ResilientIntegrations:crm:Fallback:MaxStaleness (00:30:00)",
            ex.Message,
            StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_NoCopiesPerSecond_FailsAtStartupNamingTheKey()
    {
        var ex = StartupFailure(new Dictionary<string, string?> { ["ResilientIntegrations:crm:Fallback:MaxCopiesPerSecond"] = "0" });

        Assert.Contains("ResilientIntegrations:crm:Fallback:MaxCopiesPerSecond must be positive (was 0)", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_SamplingDurationOverADay_FailsAtStartupNamingTheKey()
    {
        // Polly's breaker refuses a longer window too: every circuit (per host, failover, delegates) must accept what this one does.
        var ex = StartupFailure(new Dictionary<string, string?> { ["ResilientIntegrations:crm:CircuitBreaker:SamplingDuration"] = "2.00:00:00" });

        Assert.Contains("ResilientIntegrations:crm:CircuitBreaker:SamplingDuration must be between 0.5 seconds and 24 hours", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_BadBreakerAndBudget_ReportsEveryKey()
    {
        var ex = StartupFailure(new Dictionary<string, string?>
        {
            ["ResilientIntegrations:crm:CircuitBreaker:FailureRatio"] = "1.5",
            ["ResilientIntegrations:crm:RetryBudget:RetryRatio"] = "-0.1",
            ["ResilientIntegrations:crm:RateLimit:MaxRetries"] = "500",
        });

        Assert.Contains("ResilientIntegrations:crm:CircuitBreaker:FailureRatio", ex.Message, StringComparison.Ordinal);
        Assert.Contains("ResilientIntegrations:crm:RetryBudget:RetryRatio", ex.Message, StringComparison.Ordinal);
        Assert.Contains("ResilientIntegrations:crm:RateLimit:MaxRetries", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_NegativeAlertCooldown_FailsAtStartupNamingTheKey()
    {
        var ex = StartupFailure(new Dictionary<string, string?> { ["ResilientIntegrations:Alerts:Cooldown"] = "-00:01:00" });

        Assert.Contains("ResilientIntegrations:Alerts:Cooldown must not be negative", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("00:00:00")]
    [InlineData("60.00:00:00")] // past what a timer can take
    public void Validate_AlertSinkTimeoutOutOfRange_FailsAtStartupNamingTheKey(string sinkTimeout)
    {
        var ex = StartupFailure(new Dictionary<string, string?> { ["ResilientIntegrations:Alerts:SinkTimeout"] = sinkTimeout });

        Assert.Contains("ResilientIntegrations:Alerts:SinkTimeout must be positive and at most 1.00:00:00", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("-00:00:01")]
    [InlineData("2.00:00:00")]
    public void Validate_AlertSettleTimeOutOfRange_FailsAtStartupNamingTheKey(string settleTime)
    {
        var ex = StartupFailure(new Dictionary<string, string?> { ["ResilientIntegrations:Alerts:SettleTime"] = settleTime });

        Assert.Contains("ResilientIntegrations:Alerts:SettleTime must be between 00:00:00 and 1.00:00:00", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_InvalidOptionsInCode_FailsAtStartup()
    {
        var services = new ServiceCollection();
        services.AddResilientIntegration("crm", o => o.Timeout.MaxDelay = TimeSpan.Zero);
        using var provider = services.BuildServiceProvider();

        var ex = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IStartupValidator>().Validate());
        Assert.Contains("ResilientIntegrations:crm:Timeout:MaxDelay must be positive", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_DefaultOptions_Pass()
    {
        var services = new ServiceCollection();
        services.AddResilientIntegration("crm");
        using var provider = services.BuildServiceProvider();

        provider.GetRequiredService<IStartupValidator>().Validate();
    }

    [Fact]
    public async Task Configuration_ValuesBoundAndReloadedWithoutRestart()
    {
        var settings = new Dictionary<string, string?> { ["ResilientIntegrations:crm:Unavailable:MaxRetries"] = "1" };
        await using var h = IntegrationHarness.Create(configuration: settings);
        h.Server.Given(Request.Create().WithPath("/call").UsingGet()).RespondWith(Response.Create().WithStatusCode(503));
        var config = (IConfigurationRoot)h.Provider.GetRequiredService<IConfiguration>();

        await h.GetAsync();
        Assert.Equal(2, h.UpstreamAttempts());

        config["ResilientIntegrations:crm:Unavailable:MaxRetries"] = "0";
        config.Reload();
        await h.GetAsync();

        Assert.Equal(3, h.UpstreamAttempts());
    }

    [Fact]
    public void AddResilientIntegration_HttpClientTimeout_DoesNotFightPipeline()
    {
        var services = new ServiceCollection();
        services.AddResilientIntegration("crm", o => o.BaseAddress = new Uri("http://127.0.0.1:1/"));
        using var provider = services.BuildServiceProvider();

        var client = provider.GetRequiredService<IHttpClientFactory>().CreateClient("crm");

        Assert.Equal(Timeout.InfiniteTimeSpan, client.Timeout);
        Assert.Equal(new Uri("http://127.0.0.1:1/"), client.BaseAddress);
    }

    [Fact]
    public async Task AddResilientIntegration_OnTypedClient_AppliesPipelineUnderClientName()
    {
        using var server = LoopbackServer.Start();
        server.Given(Request.Create().WithPath("/contacts").UsingGet()).RespondWith(Response.Create().WithStatusCode(401));
        var services = new ServiceCollection();
        services.AddHttpClient<CrmClient>(c => c.BaseAddress = new Uri(server.Url!)).AddResilientIntegration();
        await using var provider = services.BuildServiceProvider();

        var ex = await Assert.ThrowsAsync<IntegrationFailureException>(() => provider.GetRequiredService<CrmClient>().GetContactsAsync());

        Assert.Equal(nameof(CrmClient), ex.Integration);
        Assert.Equal(FailureKind.Auth, ex.Kind);
        Assert.Single(server.LogEntries);
    }

    [Fact]
    public async Task AddFailureRule_OnBuilder_ReachesPipelineClassifier()
    {
        await using var h = IntegrationHarness.Create(build: b => b.AddFailureRule(FailureRule.ForStatus(404, FailureKind.None)));
        h.Server.Given(Request.Create().WithPath("/call").UsingGet()).RespondWith(Response.Create().WithStatusCode(404));

        var (response, error) = await h.GetAsync();

        Assert.Null(error);
        Assert.Equal(System.Net.HttpStatusCode.NotFound, response!.StatusCode);
    }

    [Fact]
    public async Task ValidateResponsesWith_Null_AcceptsHtml()
    {
        await using var h = IntegrationHarness.Create(build: b => b.ValidateResponsesWith(null));
        h.Server.Given(Request.Create().WithPath("/call").UsingGet())
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "text/html").WithBody("<p>ok</p>"));

        var (_, error) = await h.GetAsync();

        Assert.Null(error);
    }

    [Fact]
    public void AddResilientIntegration_ReservedName_Throws()
    {
        Assert.Throws<ArgumentException>(() => new ServiceCollection().AddResilientIntegration("Alerts"));
    }

    public sealed class CrmClient(HttpClient http)
    {
        public Task<string> GetContactsAsync() => http.GetStringAsync("/contacts", TestContext.Current.CancellationToken);
    }
}
