using static Resilient.Integrations.Tests.Support.ConfiguredIntegration;

namespace Resilient.Integrations.Tests.Failover;

public sealed class FailoverOptionsTests
{
    [Fact]
    public void Bind_EndpointsFromConfiguration_InOrder()
    {
        var options = OptionsFrom(new Dictionary<string, string?>
        {
            ["ResilientIntegrations:crm:BaseAddress"] = "https://us.api.example.com/v1/",
            ["ResilientIntegrations:crm:Failover:Endpoints:0"] = "https://eu.api.example.com/v1/",
            ["ResilientIntegrations:crm:Failover:Endpoints:1"] = "https://ap.api.example.com/v1/",
            ["ResilientIntegrations:crm:CircuitBreaker:PerHost"] = "true",
            ["ResilientIntegrations:crm:CircuitBreaker:MaxHosts"] = "50",
        });

        Assert.Equal([new Uri("https://eu.api.example.com/v1/"), new Uri("https://ap.api.example.com/v1/")], options.Failover.Endpoints);
        Assert.True(options.CircuitBreaker.PerHost);
        Assert.Equal(50, options.CircuitBreaker.MaxHosts);
    }

    [Theory]
    [InlineData("Failover:Endpoints:0", "/v1/", "ResilientIntegrations:crm:Failover:Endpoints:0 must be an absolute http or https address")]
    [InlineData("Failover:Endpoints:0", "https://user:pw@eu.api.example.com/", "ResilientIntegrations:crm:Failover:Endpoints:0 must be an absolute http or https address without user information")]
    [InlineData("Failover:Endpoints:0", "https://eu.api.example.com/?key=1", "ResilientIntegrations:crm:Failover:Endpoints:0 must be an absolute http or https address")]
    [InlineData("Failover:Endpoints:0", "ftp://eu.api.example.com/", "ResilientIntegrations:crm:Failover:Endpoints:0 must be an absolute http or https address")]
    [InlineData("Failover:Endpoints:0", "https://us.api.example.com/v1", "ResilientIntegrations:crm:Failover:Endpoints:0 must differ from ResilientIntegrations:crm:BaseAddress")]
    [InlineData("CircuitBreaker:MaxHosts", "0", "ResilientIntegrations:crm:CircuitBreaker:MaxHosts must be between 1 and 100000")]
    public void Validate_BadFailoverOrPerHostOption_FailsAtStartupNamingTheKey(string key, string value, string message)
    {
        var ex = StartupFailure(new Dictionary<string, string?>
        {
            ["ResilientIntegrations:crm:BaseAddress"] = "https://us.api.example.com/v1/",
            ["ResilientIntegrations:crm:" + key] = value,
        });

        Assert.Contains(message, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_SameEndpointTwice_FailsNamingTheSecond()
    {
        var ex = StartupFailure(new Dictionary<string, string?>
        {
            ["ResilientIntegrations:crm:Failover:Endpoints:0"] = "https://eu.api.example.com/",
            ["ResilientIntegrations:crm:Failover:Endpoints:1"] = "https://eu.api.example.com",
        });

        Assert.Contains("ResilientIntegrations:crm:Failover:Endpoints:1 must differ", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_BaseAddressWithUserInformationAndEndpoints_FailsWithoutShowingIt()
    {
        var ex = StartupFailure(new Dictionary<string, string?>
        {
            ["ResilientIntegrations:crm:BaseAddress"] = "https://user:s3cret-pw@us.api.example.com/v1/",
            ["ResilientIntegrations:crm:Failover:Endpoints:0"] = "https://eu.api.example.com/v1/",
        });

        Assert.Contains("ResilientIntegrations:crm:BaseAddress must not carry user information", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("s3cret-pw", ex.Message, StringComparison.Ordinal);
    }
}
