using System.Net;
using System.Net.Http.Headers;
using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.DependencyInjection;

namespace Resilient.Integrations.Benchmarks;

/// <summary>
/// What failing over costs per call once the primary's circuit is open, without the network's noise: an in-memory
/// upstream where the primary refuses connections and the secondary answers 200. Side by side: the same GET sent
/// straight to the secondary by an integration without failover, and by one with <c>CircuitBreaker:PerHost</c>.
/// </summary>
[MemoryDiagnoser]
public class FailoverOverheadBenchmarks
{
    private static readonly Uri Primary = new("http://primary.example/v1/");
    private static readonly Uri Secondary = new("http://secondary.example/v1/");

    private ServiceProvider _provider = null!;
    private HttpClient _direct = null!;
    private HttpClient _failover = null!;
    private HttpClient _perHost = null!;

    [GlobalSetup]
    public async Task Setup()
    {
        var services = new ServiceCollection();
        services.AddResilientIntegration("direct", o => o.BaseAddress = Secondary).HttpClientBuilder.ConfigurePrimaryHttpMessageHandler(() => new Upstream());
        services.AddResilientIntegration("failover", o =>
        {
            o.BaseAddress = Primary;
            o.Failover.Endpoints.Add(Secondary);
            o.Failover.Alert = null;
        }).HttpClientBuilder.ConfigurePrimaryHttpMessageHandler(() => new Upstream());
        services.AddResilientIntegration("per-host", o =>
        {
            o.BaseAddress = Secondary;
            o.CircuitBreaker.PerHost = true;
        }).HttpClientBuilder.ConfigurePrimaryHttpMessageHandler(() => new Upstream());
        _provider = services.BuildServiceProvider();
        var factory = _provider.GetRequiredService<IHttpClientFactory>();
        _direct = factory.CreateClient("direct");
        _failover = factory.CreateClient("failover");
        _perHost = factory.CreateClient("per-host");
        for (int i = 0; i < 20; i++)
        {
            await CallAsync(_failover); // opens the primary's circuit
        }
    }

    [GlobalCleanup]
    public void Cleanup() => _provider.Dispose();

    [Benchmark(Baseline = true)]
    public Task Direct() => CallAsync(_direct);

    [Benchmark]
    public Task FailedOver() => CallAsync(_failover);

    [Benchmark]
    public Task PerHost() => CallAsync(_perHost);

    private static async Task CallAsync(HttpClient client)
    {
        using var response = await client.GetAsync("deals");
        response.EnsureSuccessStatusCode();
    }

    private sealed class Upstream : HttpMessageHandler
    {
        private static readonly byte[] Body = """{"data":[]}"""u8.ToArray();

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (request.RequestUri!.Host == Primary.Host)
            {
                throw new HttpRequestException(HttpRequestError.ConnectionError, "Connection refused (primary.example:80)");
            }

            var content = new ByteArrayContent(Body);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            return Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK) { Content = content, RequestMessage = request });
        }
    }
}
