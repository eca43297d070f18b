using System.Net;
using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.DependencyInjection;
using Polly;
using Resilient.Integrations.Benchmarks.Scenarios;

namespace Resilient.Integrations.Benchmarks;

/// <summary>
/// Success-path overhead per request over an in-memory handler: no resilience, the standard resilience
/// handler of Microsoft.Extensions.Http.Resilience, this library (defaults, and with the last-known-good
/// copy off, and with validation off too) and Polly's own pipeline of the same strategies, side by side in one run.
/// </summary>
[MemoryDiagnoser]
public class PipelineBenchmarks
{
    private static readonly Uri Address = new("http://crm.example/contacts/1");
    private ServiceProvider _provider = null!;
    private HttpClient _none = null!;
    private HttpClient _standard = null!;
    private HttpClient _ours = null!;
    private HttpClient _oursNoFallback = null!;
    private HttpClient _oursBare = null!;
    private HttpClient _polly = null!;

    [GlobalSetup]
    public void Setup()
    {
        var services = new ServiceCollection();
        services.AddHttpClient("none").ConfigurePrimaryHttpMessageHandler(() => new InMemoryApi(InMemoryApi.SmallJson));
        services.AddHttpClient("standard").ConfigurePrimaryHttpMessageHandler(() => new InMemoryApi(InMemoryApi.SmallJson)).AddStandardResilienceHandler();
        services.AddResilientIntegration("ours").HttpClientBuilder.ConfigurePrimaryHttpMessageHandler(() => new InMemoryApi(InMemoryApi.SmallJson));
        services.AddResilientIntegration("ours-no-fallback", o => o.Fallback.Enabled = false).HttpClientBuilder.ConfigurePrimaryHttpMessageHandler(() => new InMemoryApi(InMemoryApi.SmallJson));
        services.AddResilientIntegration("ours-bare", o => o.Fallback.Enabled = false).ValidateResponsesWith(null).HttpClientBuilder.ConfigurePrimaryHttpMessageHandler(() => new InMemoryApi(InMemoryApi.SmallJson));
        // Polly's own pipeline of the strategies ours keeps with validation and the fallback off: total timeout, retry,
        // circuit breaker, attempt timeout, with our defaults' timeouts.
        services.AddHttpClient("polly").ConfigurePrimaryHttpMessageHandler(() => new InMemoryApi(InMemoryApi.SmallJson)).AddResilienceHandler("same-strategies", b => b
            .AddTimeout(TimeSpan.FromMinutes(2))
            .AddRetry(new Microsoft.Extensions.Http.Resilience.HttpRetryStrategyOptions())
            .AddCircuitBreaker(new Microsoft.Extensions.Http.Resilience.HttpCircuitBreakerStrategyOptions())
            .AddTimeout(TimeSpan.FromSeconds(30)));
        _provider = services.BuildServiceProvider();
        var factory = _provider.GetRequiredService<IHttpClientFactory>();
        (_none, _standard, _ours, _oursNoFallback) = (factory.CreateClient("none"), factory.CreateClient("standard"), factory.CreateClient("ours"), factory.CreateClient("ours-no-fallback"));
        _oursBare = factory.CreateClient("ours-bare");
        _polly = factory.CreateClient("polly");
    }

    [GlobalCleanup]
    public ValueTask Cleanup() => _provider.DisposeAsync();

    [Benchmark(Baseline = true)]
    public Task<HttpStatusCode> NoResilience() => SendAsync(_none);

    [Benchmark]
    public Task<HttpStatusCode> StandardResilienceHandler() => SendAsync(_standard);

    [Benchmark]
    public Task<HttpStatusCode> ResilientIntegration() => SendAsync(_ours);

    [Benchmark]
    public Task<HttpStatusCode> ResilientIntegration_NoFallbackCopy() => SendAsync(_oursNoFallback);

    [Benchmark]
    public Task<HttpStatusCode> ResilientIntegration_NoFallbackNoValidation() => SendAsync(_oursBare);

    [Benchmark]
    public Task<HttpStatusCode> PollyPipeline_SameStrategies() => SendAsync(_polly);

    private static async Task<HttpStatusCode> SendAsync(HttpClient client)
    {
        using var response = await client.GetAsync(Address);
        return response.StatusCode;
    }

}
