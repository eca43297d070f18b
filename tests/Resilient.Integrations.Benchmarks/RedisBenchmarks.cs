using System.Net;
using System.Text;
using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.DependencyInjection;

namespace Resilient.Integrations.Benchmarks;

/// <summary>
/// What registering <c>AddResilientIntegrationsRedis</c> costs a request, in real time over an in-memory upstream: on a
/// plain success path (no budget reported: Redis is never consulted), and with a provider that reports its request
/// budget on every answer (each request takes from and teaches the shared budget), with Redis up and with Redis down
/// (a closed port: after the first timeout each instance paces alone). Needs RESILIENT_REDIS.
/// </summary>
[MemoryDiagnoser]
public class RedisBenchmarks
{
    private static readonly Uri Address = new("http://ai.example/v1/chat/completions");
    private ServiceProvider _provider = null!;
    private ServiceProvider _sharedProvider = null!;
    private HttpClient _plain = null!;
    private HttpClient _plainRedis = null!;
    private HttpClient _budget = null!;
    private HttpClient _budgetRedis = null!;
    private ServiceProvider _down = null!;
    private HttpClient _budgetRedisDown = null!;

    [GlobalSetup]
    public async Task Setup()
    {
        string redis = Environment.GetEnvironmentVariable("RESILIENT_REDIS")
            ?? throw new InvalidOperationException("Set RESILIENT_REDIS to a Redis (e.g. 127.0.0.1:56379).");
        string prefix = $"bench-{Guid.NewGuid():N}:";

        var alone = new ServiceCollection();
        alone.AddResilientIntegration("plain").HttpClientBuilder.ConfigurePrimaryHttpMessageHandler(() => new Upstream(reportBudget: false));
        alone.AddResilientIntegration("budget").HttpClientBuilder.ConfigurePrimaryHttpMessageHandler(() => new Upstream(reportBudget: true));
        var shared = new ServiceCollection();
        shared.AddResilientIntegration("plain").HttpClientBuilder.ConfigurePrimaryHttpMessageHandler(() => new Upstream(reportBudget: false));
        shared.AddResilientIntegration("budget").HttpClientBuilder.ConfigurePrimaryHttpMessageHandler(() => new Upstream(reportBudget: true));
        shared.AddResilientIntegrationsRedis(o => (o.Configuration, o.KeyPrefix) = (redis, prefix));
        var down = new ServiceCollection();
        down.AddResilientIntegration("budget").HttpClientBuilder.ConfigurePrimaryHttpMessageHandler(() => new Upstream(reportBudget: true));
        down.AddResilientIntegrationsRedis(o => (o.Configuration, o.KeyPrefix) = ("127.0.0.1:1,connectTimeout=200", prefix));

        _provider = alone.BuildServiceProvider();
        _sharedProvider = shared.BuildServiceProvider();
        _down = down.BuildServiceProvider();
        var factory = _provider.GetRequiredService<IHttpClientFactory>();
        var sharedFactory = _sharedProvider.GetRequiredService<IHttpClientFactory>();
        (_plain, _budget) = (factory.CreateClient("plain"), factory.CreateClient("budget"));
        (_plainRedis, _budgetRedis) = (sharedFactory.CreateClient("plain"), sharedFactory.CreateClient("budget"));
        _budgetRedisDown = _down.GetRequiredService<IHttpClientFactory>().CreateClient("budget");

        // The first answer teaches each integration that the provider reports a budget.
        foreach (var client in new[] { _budget, _budgetRedis, _budgetRedisDown })
        {
            (await client.GetAsync(Address)).Dispose();
        }
    }

    [GlobalCleanup]
    public async Task Cleanup()
    {
        await _provider.DisposeAsync();
        await _sharedProvider.DisposeAsync();
        await _down.DisposeAsync();
    }

    [Benchmark(Baseline = true)]
    public Task<HttpStatusCode> Plain_NoRedis() => SendAsync(_plain);

    [Benchmark]
    public Task<HttpStatusCode> Plain_RedisRegistered() => SendAsync(_plainRedis);

    [Benchmark]
    public Task<HttpStatusCode> Budget_NoRedis() => SendAsync(_budget);

    [Benchmark]
    public Task<HttpStatusCode> Budget_SharedInRedis() => SendAsync(_budgetRedis);

    [Benchmark]
    public Task<HttpStatusCode> Budget_RedisDown() => SendAsync(_budgetRedisDown);

    private static async Task<HttpStatusCode> SendAsync(HttpClient client)
    {
        using var response = await client.GetAsync(Address);
        return response.StatusCode;
    }

    /// <summary>Always answers 200; with <c>reportBudget</c>, with OpenAI's request-budget headers of a budget never spent.</summary>
    private sealed class Upstream(bool reportBudget) : HttpMessageHandler
    {
        private static readonly byte[] Body = Encoding.UTF8.GetBytes("""{"id":"chatcmpl-1","choices":[{"message":{"content":"ok"}}]}""");

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var content = new ByteArrayContent(Body);
            content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
            var response = new HttpResponseMessage(HttpStatusCode.OK) { Content = content, RequestMessage = request };
            if (reportBudget)
            {
                response.Headers.Add("x-ratelimit-limit-requests", "1000000");
                response.Headers.Add("x-ratelimit-remaining-requests", "999999");
                response.Headers.Add("x-ratelimit-reset-requests", "1ms");
            }

            return Task.FromResult(response);
        }
    }
}
