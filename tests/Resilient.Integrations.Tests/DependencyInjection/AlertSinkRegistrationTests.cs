using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Resilient.Integrations.Alerts;
using Resilient.Integrations.Classification;
using Resilient.Integrations.Tests.Support;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;

namespace Resilient.Integrations.Tests.DependencyInjection;

/// <summary>Sinks are shared by all integrations: however many integrations add one, it gets each alert once.</summary>
public sealed class AlertSinkRegistrationTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public void AddAlertSink_SameInstanceForTwoIntegrations_RegisteredOnceButAnotherInstanceKept()
    {
        var sink = new RecordingAlertSink();
        var services = new ServiceCollection();
        services.AddResilientIntegration("crm").AddAlertSink(sink);
        services.AddResilientIntegration("billing").AddAlertSink(sink).AddAlertSink(new RecordingAlertSink());
        using var provider = services.BuildServiceProvider();

        var sinks = provider.GetServices<IAlertSink>().ToList();

        Assert.Single(sinks, s => ReferenceEquals(s, sink));
        Assert.Equal(2, sinks.OfType<RecordingAlertSink>().Count()); // another instance of the same type is another sink
    }

    [Fact]
    public async Task Send_SinkInstanceAddedByTwoIntegrations_GetsEachAlertOnce()
    {
        var shared = new RecordingAlertSink();
        await using var h = IntegrationHarness.Create(
            build: b => b.AddAlertSink(shared),
            services: s => s.AddResilientIntegration("billing", o => o.BaseAddress = new Uri("http://127.0.0.1:9/")).AddAlertSink(shared));
        h.Server.Given(Request.Create().WithPath("/call").UsingGet()).RespondWith(Response.Create().WithStatusCode(401));

        var (_, error) = await h.GetAsync();
        await h.Provider.GetRequiredService<IAlertDispatcher>().FlushAsync(Ct);

        Assert.Equal(FailureKind.Auth, Assert.IsType<IntegrationFailureException>(error).Kind);
        var alert = Assert.Single(shared.Alerts);
        Assert.Equal((IntegrationHarness.Name, AlertSeverity.Critical), (alert.Integration, alert.Severity));
        Assert.Single(h.Alerts.Alerts);
    }

    [Fact]
    public async Task Send_SinkTypeAddedByTwoIntegrations_OneSinkGetsEachAlertOnce()
    {
        await using var h = IntegrationHarness.Create(
            build: b => b.AddAlertSink<CountingSink>(),
            services: s => s.AddResilientIntegration("billing", o => o.BaseAddress = new Uri("http://127.0.0.1:9/")).AddAlertSink<CountingSink>());
        h.Server.Given(Request.Create().WithPath("/call").UsingGet()).RespondWith(Response.Create().WithStatusCode(401));

        var (_, error) = await h.GetAsync();
        await h.Provider.GetRequiredService<IAlertDispatcher>().FlushAsync(Ct);

        Assert.Equal(FailureKind.Auth, Assert.IsType<IntegrationFailureException>(error).Kind);
        var sink = Assert.Single(h.Provider.GetServices<IAlertSink>().OfType<CountingSink>());
        Assert.Equal(AlertSeverity.Critical, Assert.Single(sink.Alerts).Severity);
    }

    private sealed class CountingSink : IAlertSink
    {
        public ConcurrentQueue<Alert> Alerts { get; } = new();

        public ValueTask SendAsync(Alert alert, CancellationToken cancellationToken)
        {
            Alerts.Enqueue(alert);
            return ValueTask.CompletedTask;
        }
    }
}
