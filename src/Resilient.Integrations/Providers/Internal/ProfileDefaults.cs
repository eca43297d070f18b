using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Resilient.Integrations.Policies;

namespace Resilient.Integrations.Providers.Internal;

/// <summary>What every profile (AI provider or API) does to register its defaults.</summary>
internal static class ProfileDefaults
{
    /// <summary>Registers a profile's defaults before every other Configure, so configuration binding and the host's own Configure still win.</summary>
    public static void InsertFirst(IServiceCollection services, IConfigureOptions<ResilientIntegrationOptions> configure)
    {
        int index = 0;
        for (; index < services.Count; index++)
        {
            if (services[index].ServiceType == typeof(IConfigureOptions<ResilientIntegrationOptions>))
            {
                break;
            }
        }

        services.Insert(index, ServiceDescriptor.Singleton(configure));
    }
}
