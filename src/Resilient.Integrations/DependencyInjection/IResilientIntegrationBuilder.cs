namespace Resilient.Integrations.DependencyInjection;

/// <summary>Configures one registered integration further: classifier rules, validation, alert sinks.</summary>
public interface IResilientIntegrationBuilder
{
    /// <summary>Gets the integration's name, which is also its <see cref="HttpClient"/>'s name.</summary>
    string Name { get; }

    /// <summary>Gets the service collection.</summary>
    Microsoft.Extensions.DependencyInjection.IServiceCollection Services { get; }

    /// <summary>Gets the builder of the integration's <see cref="HttpClient"/>.</summary>
    Microsoft.Extensions.DependencyInjection.IHttpClientBuilder HttpClientBuilder { get; }
}
