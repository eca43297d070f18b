using Resilient.Integrations.DependencyInjection;
using Resilient.Integrations.Policies;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers resilient integrations.</summary>
public static class ResilientIntegrationServiceCollectionExtensions
{
    /// <summary>
    /// Registers a named <see cref="System.Net.Http.HttpClient"/> for an external API with the full resilience pipeline:
    /// failure classification, a policy per failure kind, circuit breaker, retry budget, pacing and alerts.
    /// Options are bound from <c>ResilientIntegrations:&lt;name&gt;</c> when the host has configuration.
    /// </summary>
    /// <param name="services">The services.</param>
    /// <param name="name">The integration's name, e.g. <c>crm</c>; also the client's name for <see cref="IHttpClientFactory"/>.</param>
    /// <param name="configure">Sets options in code; configuration, when present, is applied after it.</param>
    /// <returns>A builder for classifier rules, validation and alert sinks.</returns>
    public static IResilientIntegrationBuilder AddResilientIntegration(
        this IServiceCollection services, string name, Action<ResilientIntegrationOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        return services.AddHttpClient(name).AddResilientIntegration(configure);
    }
}
