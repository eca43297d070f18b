using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.DependencyInjection;
using Resilient.Integrations.Benchmarks.Scenarios;

namespace Resilient.Integrations.Benchmarks;

/// <summary>
/// Cost as the work grows, with the fallback on (defaults): one caller going round 1, 1,000 or 100,000 distinct request
/// paths, each a shape with its own kept copy (refreshed at most once a second), in the default 32 MiB cache and in
/// one with room for every copy.
/// </summary>
[MemoryDiagnoser]
public class ShapeBenchmarks
{
    private ServiceProvider _provider = null!;
    private HttpClient _ours = null!;
    private Uri[] _addresses = null!;
    private int _next;

    [Params(1, 1_000, 100_000)]
    public int Shapes { get; set; }

    /// <summary>32: the default, which holds about 25,000 such copies; 256: room for all of them.</summary>
    [Params(32, 256)]
    public int SizeLimitMiB { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var services = new ServiceCollection();
        services.AddResilientIntegration("ours", o => o.Fallback.SizeLimitBytes = SizeLimitMiB * 1024L * 1024)
            .HttpClientBuilder.ConfigurePrimaryHttpMessageHandler(() => new InMemoryApi(InMemoryApi.SmallJson, realisticHeaders: true));
        _provider = services.BuildServiceProvider();
        _ours = _provider.GetRequiredService<IHttpClientFactory>().CreateClient("ours");
        _addresses = [.. Enumerable.Range(0, Shapes).Select(i => new Uri($"http://crm.example/contacts/{i}"))];
    }

    [GlobalCleanup]
    public ValueTask Cleanup() => _provider.DisposeAsync();

    [Benchmark]
    public async Task<int> ResilientIntegration()
    {
        var address = _addresses[_next++ % _addresses.Length];
        using var response = await _ours.GetAsync(address);
        return (int)response.StatusCode;
    }
}

/// <summary>
/// Concurrent callers on one integration (and on one standard handler): 4,096 requests per invocation spread over
/// 1, 16, 64 or 256 callers, so Mean is the time per request and the throughput ratio is the inverse ratio of means.
/// </summary>
[MemoryDiagnoser]
public class ConcurrencyBenchmarks
{
    private const int Requests = 4096;
    private static readonly Uri Address = new("http://crm.example/contacts/1");
    private ServiceProvider _provider = null!;
    private HttpClient _standard = null!;
    private HttpClient _ours = null!;

    [Params(1, 16, 64, 256)]
    public int Callers { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var services = new ServiceCollection();
        services.AddHttpClient("standard").ConfigurePrimaryHttpMessageHandler(() => new InMemoryApi(InMemoryApi.SmallJson)).AddStandardResilienceHandler();
        services.AddResilientIntegration("ours").HttpClientBuilder.ConfigurePrimaryHttpMessageHandler(() => new InMemoryApi(InMemoryApi.SmallJson));
        _provider = services.BuildServiceProvider();
        var factory = _provider.GetRequiredService<IHttpClientFactory>();
        (_standard, _ours) = (factory.CreateClient("standard"), factory.CreateClient("ours"));
    }

    [GlobalCleanup]
    public ValueTask Cleanup() => _provider.DisposeAsync();

    [Benchmark(Baseline = true, OperationsPerInvoke = Requests)]
    public Task StandardResilienceHandler() => RunAsync(_standard, Callers);

    [Benchmark(OperationsPerInvoke = Requests)]
    public Task ResilientIntegration() => RunAsync(_ours, Callers);

    internal static Task RunAsync(HttpClient client, int callers) =>
        Task.WhenAll(Enumerable.Range(0, callers).Select(_ => Task.Run(async () =>
        {
            for (int i = 0; i < Requests / callers; i++)
            {
                using var response = await client.GetAsync(Address).ConfigureAwait(false);
            }
        })));
}

/// <summary>
/// A 2xx JSON body of 1 MB and of 10 MB through validation (the validator's <c>MaxBodyBytes</c> raised to 16 MiB so
/// the whole body is checked; the fallback off, so no copy is kept): time and allocation per request, against no
/// resilience and the standard handler, which buffer the body the same way in <c>GetAsync</c>.
/// </summary>
[MemoryDiagnoser]
public class LargeBodyBenchmarks
{
    private static readonly Uri Address = new("http://crm.example/reports/1");
    private ServiceProvider _provider = null!;
    private HttpClient _none = null!;
    private HttpClient _standard = null!;
    private HttpClient _ours = null!;

    [Params(1, 10)]
    public int Megabytes { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var body = InMemoryApi.JsonOf(Megabytes * 1024 * 1024);
        var services = new ServiceCollection();
        services.AddHttpClient("none").ConfigurePrimaryHttpMessageHandler(() => new InMemoryApi(body));
        services.AddHttpClient("standard").ConfigurePrimaryHttpMessageHandler(() => new InMemoryApi(body)).AddStandardResilienceHandler();
        services.AddResilientIntegration("ours", o => o.Fallback.Enabled = false)
            .ValidateResponsesWith(new Validation.JsonResponseValidator(new Validation.JsonResponseValidatorOptions { MaxBodyBytes = 16 * 1024 * 1024 }))
            .HttpClientBuilder.ConfigurePrimaryHttpMessageHandler(() => new InMemoryApi(body));
        _provider = services.BuildServiceProvider();
        var factory = _provider.GetRequiredService<IHttpClientFactory>();
        (_none, _standard, _ours) = (factory.CreateClient("none"), factory.CreateClient("standard"), factory.CreateClient("ours"));
    }

    [GlobalCleanup]
    public ValueTask Cleanup() => _provider.DisposeAsync();

    [Benchmark(Baseline = true)]
    public Task<int> NoResilience() => SendAsync(_none);

    [Benchmark]
    public Task<int> StandardResilienceHandler() => SendAsync(_standard);

    [Benchmark]
    public Task<int> ResilientIntegration_Validated() => SendAsync(_ours);

    private static async Task<int> SendAsync(HttpClient client)
    {
        using var response = await client.GetAsync(Address); // buffers the body, in every contender alike
        return (int)response.StatusCode;
    }
}
