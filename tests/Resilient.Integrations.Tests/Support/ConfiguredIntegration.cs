using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Resilient.Integrations.Policies;

namespace Resilient.Integrations.Tests.Support;

/// <summary>The integration "crm" registered over in-memory configuration, for tests of binding and start-up validation.</summary>
internal static class ConfiguredIntegration
{
    public static ServiceProvider WithConfiguration(IDictionary<string, string?> settings)
    {
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(settings).Build());
        services.AddResilientIntegration("crm");
        return services.BuildServiceProvider();
    }

    public static OptionsValidationException StartupFailure(IDictionary<string, string?> settings)
    {
        using var provider = WithConfiguration(settings);
        return Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IStartupValidator>().Validate());
    }

    public static void StartsUp(IDictionary<string, string?> settings)
    {
        using var provider = WithConfiguration(settings);
        provider.GetRequiredService<IStartupValidator>().Validate();
    }

    public static ResilientIntegrationOptions OptionsFrom(IDictionary<string, string?> settings)
    {
        using var provider = WithConfiguration(settings);
        return provider.GetRequiredService<IOptionsMonitor<ResilientIntegrationOptions>>().Get("crm");
    }
}
