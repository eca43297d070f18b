using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Resilient.Integrations.DependencyInjection;
using Resilient.Integrations.Policies;
using WireMock.Server;

namespace Resilient.Integrations.Tests.Support;

/// <summary>
/// A container with one integration named "crm" pointed at a loopback WireMock server, a test clock, a
/// recording alert sink and captured logs. Jitter is off so waits are exact.
/// </summary>
public sealed class IntegrationHarness : IAsyncDisposable
{
    public const string Name = "crm";
    public static readonly TimeSpan AttemptTimeout = TimeSpan.FromSeconds(30);
    public static readonly TimeSpan TotalTimeout = TimeSpan.FromMinutes(5);
    public static readonly TimeSpan SinkTimeout = TimeSpan.FromSeconds(7);

    private IntegrationHarness(WireMockServer server, TestClock clock, ServiceProvider provider, RecordingAlertSink alerts)
    {
        Server = server;
        Clock = clock;
        Provider = provider;
        Alerts = alerts;
    }

    public WireMockServer Server { get; }

    public TestClock Clock { get; }

    public ServiceProvider Provider { get; }

    public RecordingAlertSink Alerts { get; }

    public FakeLogCollector Logs => Provider.GetFakeLogCollector();

    public HttpClient Client => Provider.GetRequiredService<IHttpClientFactory>().CreateClient(Name);

    public int UpstreamAttempts(string path = "/call") => Server.LogEntries.Count(e => e.RequestMessage?.Path == path);

    public static IntegrationHarness Create(
        Action<ResilientIntegrationOptions>? configure = null,
        Action<IResilientIntegrationBuilder>? build = null,
        IDictionary<string, string?>? configuration = null,
        Action<IServiceCollection>? services = null,
        DateTimeOffset? start = null,
        TestClock? clock = null)
    {
        var server = LoopbackServer.Start();
        clock ??= new TestClock(start ?? new DateTimeOffset(2026, 11, 23, 6, 0, 0, TimeSpan.Zero));
        clock.Deadlines.UnionWith([AttemptTimeout, TotalTimeout]);
        var alerts = new RecordingAlertSink();
        var collection = new ServiceCollection();
        collection.AddSingleton<TimeProvider>(clock);
        collection.AddLogging(b => b.AddFakeLogging().SetMinimumLevel(LogLevel.Debug));
        if (configuration is not null)
        {
            collection.AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(configuration).Build());
        }

        var builder = collection.AddResilientIntegration(Name, o =>
        {
            o.BaseAddress = new Uri(server.Url!);
            o.AttemptTimeout = AttemptTimeout;
            o.TotalTimeout = TotalTimeout;
            foreach (var kind in Enum.GetValues<global::Resilient.Integrations.Classification.FailureKind>())
            {
                o.PolicyFor(kind).UseJitter = false;
            }

            configure?.Invoke(o);
        });
        builder.AddAlertSink(alerts).ConfigureAlerts(a => a.SinkTimeout = SinkTimeout);
        build?.Invoke(builder);
        services?.Invoke(collection);
        return new IntegrationHarness(server, clock, collection.BuildServiceProvider(), alerts);
    }

    /// <summary>Starts the hosted services (health probes, the replay of deferred writes): tests start them by hand.</summary>
    public async Task StartHostedServicesAsync()
    {
        foreach (var service in Provider.GetServices<Microsoft.Extensions.Hosting.IHostedService>())
        {
            await service.StartAsync(TestContext.Current.CancellationToken);
        }
    }

    /// <summary>
    /// Every alert delivered so far, after the dispatcher has dealt with every alert published before: for alerts of
    /// an action known to be over. An alert raised in the background is waited for with <c>Alerts.WaitForAsync(match)</c>.
    /// </summary>
    public Task<IReadOnlyList<Resilient.Integrations.Alerts.Alert>> SettledAlertsAsync() =>
        Alerts.SettleAsync(Provider.GetRequiredService<Resilient.Integrations.Alerts.IAlertDispatcher>());

    public MetricCollector<long> Metric(string name) =>
        new(Provider.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(), "Resilient.Integrations", name);

    /// <summary>Sends GET /call through the integration, jumping over waits, and returns the response or the exception.</summary>
    public async Task<(HttpResponseMessage? Response, Exception? Error)> GetAsync(string path = "/call")
    {
        var call = Client.GetAsync(path, TestContext.Current.CancellationToken);
        try
        {
            return (await Clock.RunAsync(call), null);
        }
        catch (Exception ex)
        {
            return (null, ex);
        }
    }

    public async ValueTask DisposeAsync()
    {
        // Polly's pipelines wait (on the injected clock) for in-flight calls before they dispose: keep time moving.
        var disposing = Provider.DisposeAsync().AsTask();
        var elapsed = System.Diagnostics.Stopwatch.StartNew();
        while (!disposing.IsCompleted)
        {
            if (elapsed.Elapsed > Eventually.Deadline)
            {
                throw new TimeoutException($"The container did not dispose within {Eventually.Deadline.TotalSeconds:0} s of real time.");
            }

            Clock.Advance(TimeSpan.FromSeconds(5));
            await Task.WhenAny(disposing, Task.Delay(5));
        }

        await disposing;
        Server.Stop();
        Server.Dispose();
    }
}
