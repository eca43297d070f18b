using System.Net;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using Resilient.Integrations.Classification;
using Resilient.Integrations.Health;
using Resilient.Integrations.Tests.Support;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;

namespace Resilient.Integrations.Tests.Telemetry;

/// <summary>What a dashboard gets through OpenTelemetry's SDK: failure kinds in <c>error.type</c>, state gauges, SDK calls like HTTP ones.</summary>
public sealed class OpenTelemetryTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>A meter provider reading Polly's and the library's meters; other tests run in parallel, so points are told apart by a unique integration.</summary>
    private static (MeterProvider Provider, List<Metric> Exported) Listen()
    {
        var exported = new List<Metric>();
        var provider = Sdk.CreateMeterProviderBuilder().AddMeter("Polly", "Resilient.Integrations").AddInMemoryExporter(exported).Build();
        return (provider, exported);
    }

    private static IEnumerable<Dictionary<string, object?>> Points(List<Metric> exported, string metric)
    {
        foreach (var m in exported.Where(m => m.Name == metric))
        {
            foreach (ref readonly var point in m.GetMetricPoints())
            {
                var tags = new Dictionary<string, object?>(StringComparer.Ordinal);
                int errorTypes = 0;
                foreach (var tag in point.Tags)
                {
                    tags[tag.Key] = tag.Value;
                    errorTypes += tag.Key == "error.type" ? 1 : 0;
                }

                Assert.True(errorTypes <= 1, $"{metric} carries error.type {errorTypes} times"); // exporters reject repeated keys

                tags["$value"] = m.MetricType switch
                {
                    MetricType.LongGauge => point.GetGaugeLastValueLong(),
                    MetricType.LongSum => point.GetSumLong(),
                    _ => null,
                };
                yield return tags;
            }
        }
    }

    [Fact]
    public async Task PollyMetrics_RateLimitedCall_CarryTheFailureKindInErrorType()
    {
        string name = $"otel-{Guid.NewGuid():N}";
        var (meters, exported) = Listen();
        using var _ = meters;
        using var upstream = LoopbackServer.Start();
        upstream.Given(Request.Create().WithPath("/call")).RespondWith(Response.Create().WithStatusCode(429).WithHeader("retry-after-ms", "1"));
        var services = new ServiceCollection();
        services.AddResilientIntegration(name, o =>
        {
            o.BaseAddress = new Uri(upstream.Url!);
            o.RateLimit.MaxRetries = 1;
            o.Fallback.Enabled = false;
        });
        await using var provider = services.BuildServiceProvider();

        using var response = await provider.GetRequiredService<IHttpClientFactory>().CreateClient(name).GetAsync("/call", Ct).ContinueWith(t => t.IsFaulted ? null : t.Result, Ct);
        meters.ForceFlush();

        var events = Points(exported, "resilience.polly.strategy.events").Where(p => Equals(p.GetValueOrDefault("pipeline.name"), name + "-resilient")).ToList();
        Assert.Contains(events, p => Equals(p.GetValueOrDefault("event.name"), "OnRetry") && Equals(p.GetValueOrDefault("error.type"), nameof(FailureKind.RateLimit)));
        var attempts = Points(exported, "resilience.polly.strategy.attempt.duration").Where(p => Equals(p.GetValueOrDefault("pipeline.name"), name + "-resilient")).ToList();
        Assert.NotEmpty(attempts);
        Assert.All(attempts, p => Assert.Equal(nameof(FailureKind.RateLimit), p.GetValueOrDefault("error.type")));
    }

    [Fact]
    public async Task PollyMetrics_SdkCallThatTimesOut_SameTelemetryAsHttpWithTheKind()
    {
        string name = $"otel-{Guid.NewGuid():N}";
        var (meters, exported) = Listen();
        using var _ = meters;
        var services = new ServiceCollection();
        services.AddResilientIntegration(name, o =>
        {
            o.BaseAddress = new Uri("http://127.0.0.1:9/");
            o.Timeout.MaxRetries = 1;
            o.Timeout.UseJitter = false;
            o.Timeout.BaseDelay = TimeSpan.FromMilliseconds(1);
            o.Fallback.Enabled = false;
        });
        await using var provider = services.BuildServiceProvider();
        var integration = provider.GetRequiredKeyedService<IResilientIntegration>(name);

        await Assert.ThrowsAsync<IntegrationFailureException>(() => integration.ExecuteAsync<string>("sdk", _ => throw new TimeoutException("the SDK gave up"), Ct));
        meters.ForceFlush();

        var events = Points(exported, "resilience.polly.strategy.events").Where(p => Equals(p.GetValueOrDefault("pipeline.name"), name + "-delegates")).ToList();
        Assert.Contains(events, p => Equals(p.GetValueOrDefault("event.name"), "OnRetry") && Equals(p.GetValueOrDefault("error.type"), nameof(FailureKind.Timeout)));
    }

    [Fact]
    public async Task Gauges_RedIntegrationWithAnOpenCircuit_ReportHealthAndCircuitState()
    {
        string name = $"otel-{Guid.NewGuid():N}";
        var (meters, exported) = Listen();
        using var _ = meters;
        using var upstream = LoopbackServer.Start();
        upstream.Given(Request.Create().WithPath("/call")).RespondWith(Response.Create().WithStatusCode(503));
        var services = new ServiceCollection();
        services.AddResilientIntegration(name, o =>
        {
            o.BaseAddress = new Uri(upstream.Url!);
            o.Unavailable.MaxRetries = 0;
            o.Fallback.Enabled = false;
            o.CircuitBreaker.MinimumThroughput = 2;
        });
        await using var provider = services.BuildServiceProvider();
        var client = provider.GetRequiredService<IHttpClientFactory>().CreateClient(name);
        for (int i = 0; i < 4; i++)
        {
            try
            {
                (await client.GetAsync("/call", Ct)).Dispose();
            }
            catch (IntegrationFailureException)
            {
            }
        }

        meters.ForceFlush();

        var health = Points(exported, "resilient_integrations.health.state").Single(p => Equals(p.GetValueOrDefault("integration"), name));
        var circuit = Points(exported, "resilient_integrations.circuit.state").Single(p => Equals(p.GetValueOrDefault("integration"), name));
        Assert.Equal((long)HealthState.Red, health["$value"]);
        Assert.Equal(2L, circuit["$value"]); // open
    }
}
