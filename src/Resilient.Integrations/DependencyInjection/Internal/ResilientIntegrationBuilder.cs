using Microsoft.Extensions.DependencyInjection;

namespace Resilient.Integrations.DependencyInjection.Internal;

internal sealed class ResilientIntegrationBuilder(IHttpClientBuilder httpClientBuilder) : IResilientIntegrationBuilder
{
    public string Name => HttpClientBuilder.Name;

    public IServiceCollection Services => HttpClientBuilder.Services;

    public IHttpClientBuilder HttpClientBuilder { get; } = httpClientBuilder;
}
