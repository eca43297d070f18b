using Microsoft.Extensions.DependencyInjection;

namespace Resilient.Integrations.Benchmarks.Scenarios;

/// <summary>The two contenders of a scenario, each with its defaults, on the virtual clock and an in-memory upstream.</summary>
internal static class ScenarioClients
{
    public static void Standard(IServiceCollection services, HttpMessageHandler upstream) =>
        services.AddHttpClient("x").ConfigurePrimaryHttpMessageHandler(() => upstream).AddStandardResilienceHandler();

    public static void Ours(IServiceCollection services, HttpMessageHandler upstream) =>
        services.AddResilientIntegration("x").HttpClientBuilder.ConfigurePrimaryHttpMessageHandler(() => upstream);

    public static (ServiceProvider Provider, HttpClient Client) Build(
        VirtualClock clock, HttpMessageHandler upstream, Action<IServiceCollection, HttpMessageHandler> register)
    {
        var services = new ServiceCollection();
        services.AddSingleton<TimeProvider>(clock);
        register(services, upstream);
        var provider = services.BuildServiceProvider();
        return (provider, provider.GetRequiredService<IHttpClientFactory>().CreateClient("x"));
    }
}
