using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Resilient.Integrations.Classification;
using Resilient.Integrations.Fallback;
using Resilient.Integrations.Tests.Support;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;

namespace Resilient.Integrations.Tests.Chaos;

public sealed class ChaosTests
{
    private static IntegrationHarness Create(string hostEnvironment, FailureKind kind, bool enabled = true) => IntegrationHarness.Create(
        o =>
        {
            o.Chaos.Enabled = enabled;
            o.Chaos.Environment = "Staging";
            o.Chaos.Kind = kind;
            o.Chaos.InjectionRate = 1.0;
            o.Unavailable.MaxRetries = 0;
            o.RateLimit.MaxRetries = 0;
        },
        services: s => s.AddSingleton<IHostEnvironment>(new Environment(hostEnvironment)));

    private static void Healthy(IntegrationHarness h) =>
        h.Server.Given(Request.Create().WithPath("/call").UsingGet())
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json").WithBody("{}"));

    [Theory]
    [InlineData(FailureKind.Unavailable)]
    [InlineData(FailureKind.Auth)]
    [InlineData(FailureKind.RateLimit)]
    [InlineData(FailureKind.QuotaExhausted)]
    [InlineData(FailureKind.BadResponse)]
    [InlineData(FailureKind.Timeout)]
    public async Task Send_ChaosEnabledInItsEnvironment_InjectsThatKindWithoutReachingService(FailureKind kind)
    {
        await using var h = Create("Staging", kind);
        Healthy(h);

        var (_, error) = await h.GetAsync();

        Assert.Equal(kind, Assert.IsType<IntegrationFailureException>(error).Kind);
        Assert.Equal(0, h.UpstreamAttempts());
    }

    [Fact]
    public async Task Send_ChaosInjectedAuth_AlertsAsForARealExpiredToken()
    {
        await using var h = Create("Staging", FailureKind.Auth);
        Healthy(h);

        var (_, error) = await h.GetAsync();

        Assert.Equal(FailureKind.Auth, Assert.IsType<IntegrationFailureException>(error).Kind);
        var alert = Assert.Single(await h.Alerts.WaitForAsync(1));
        Assert.Equal((Resilient.Integrations.Alerts.AlertSeverity.Critical, FailureKind.Auth), (alert.Severity, alert.Kind));
    }

    [Fact]
    public async Task Send_OtherEnvironment_NoChaos()
    {
        await using var h = Create("Production", FailureKind.Unavailable);
        Healthy(h);

        var (response, error) = await h.GetAsync();

        Assert.Null(error);
        Assert.True(response!.IsSuccessStatusCode);
        Assert.Null(response.GetDegradation());
        Assert.Equal(1, h.UpstreamAttempts());
    }

    [Fact]
    public async Task Send_ChaosNotEnabled_NoChaos()
    {
        await using var h = Create("Staging", FailureKind.Unavailable, enabled: false);
        Healthy(h);

        var (_, error) = await h.GetAsync();

        Assert.Null(error);
        Assert.Equal(1, h.UpstreamAttempts());
    }

    [Fact]
    public void Validate_EnabledWithoutEnvironment_FailsAtStartupNamingTheKey()
    {
        var services = new ServiceCollection();
        services.AddResilientIntegration("crm", o => o.Chaos.Enabled = true);
        using var provider = services.BuildServiceProvider();

        var ex = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IStartupValidator>().Validate());

        Assert.Contains("ResilientIntegrations:crm:Chaos:Environment", ex.Message, StringComparison.Ordinal);
    }

    private sealed class Environment(string name) : IHostEnvironment
    {
        public string EnvironmentName { get; set; } = name;

        public string ApplicationName { get; set; } = "tests";

        public string ContentRootPath { get; set; } = AppContext.BaseDirectory;

        public IFileProvider ContentRootFileProvider { get; set; } = new NullFileProvider();
    }
}
