using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Resilient.Integrations.Alerts;
using Resilient.Integrations.Alerts.Internal;
using Resilient.Integrations.Classification;
using Resilient.Integrations.Telemetry.Internal;
using Resilient.Integrations.Tests.Support;

namespace Resilient.Integrations.Tests.Alerts;

public sealed class AlertDispatcherTests : IAsyncDisposable
{
    private readonly TestClock _clock = new(new DateTimeOffset(2026, 11, 23, 6, 0, 0, TimeSpan.Zero));
    private readonly List<IAsyncDisposable> _disposables = [];
    private readonly TestMeterFactory _meters = new();

    private static Alert Make(FailureKind kind = FailureKind.Auth, AlertSeverity severity = AlertSeverity.Critical, string integration = "crm") => new()
    {
        Integration = integration,
        Severity = severity,
        Kind = kind,
        Message = $"{kind} failure",
    };

    /// <summary>Sends one alert, then repeats it within the cooldown until the repeats are counted as suppressed.</summary>
    private static async Task SendThenRepeatAsync(AlertDispatcher dispatcher, RecordingAlertSink sink, MetricCollector<long> suppressed, int repeats)
    {
        dispatcher.Publish(Make());
        await sink.WaitForAsync(1);
        for (int i = 0; i < repeats; i++)
        {
            dispatcher.Publish(Make());
        }

        await suppressed.WaitForMeasurementsAsync(repeats, Eventually.Deadline);
    }

    private AlertDispatcher Create(AlertOptions options, params IAlertSink[] sinks)
    {
        var dispatcher = new AlertDispatcher(sinks, new StaticOptions(options), _clock, new IntegrationMetrics(_meters), NullLoggerFactory.Instance);
        _disposables.Add(dispatcher);
        return dispatcher;
    }

    private MetricCollector<long> Metric(string name) => new(_meters, IntegrationMetrics.MeterName, name);

    [Fact]
    public async Task Publish_RepeatsWithinCooldown_SuppressedThenCountedOnNextSend()
    {
        var sink = new RecordingAlertSink();
        using var suppressed = Metric("resilient_integrations.alerts.suppressed");
        var dispatcher = Create(new AlertOptions(), sink);

        await SendThenRepeatAsync(dispatcher, sink, suppressed, repeats: 2);
        _clock.Advance(TimeSpan.FromMinutes(5));
        dispatcher.Publish(Make());
        var alerts = await sink.WaitForAsync(2);

        Assert.Equal(2, alerts.Count);
        Assert.Equal(0, alerts[0].SuppressedCount);
        Assert.Equal(2, alerts[1].SuppressedCount);
        Assert.Contains("2 repeats suppressed", alerts[1].ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ResetCooldown_AfterAnAlert_NextRepeatIsSentAtOnce()
    {
        var sink = new RecordingAlertSink();
        using var suppressed = Metric("resilient_integrations.alerts.suppressed");
        var dispatcher = Create(new AlertOptions(), sink);
        await SendThenRepeatAsync(dispatcher, sink, suppressed, repeats: 1);

        dispatcher.ResetCooldown("crm");
        dispatcher.Publish(Make());

        Assert.Equal(2, (await sink.WaitForAsync(2)).Count);
    }

    [Fact]
    public async Task Publish_DifferentKindsOrIntegrations_NotSuppressed()
    {
        var sink = new RecordingAlertSink();
        var dispatcher = Create(new AlertOptions(), sink);

        dispatcher.Publish(Make(FailureKind.Auth));
        dispatcher.Publish(Make(FailureKind.QuotaExhausted));
        dispatcher.Publish(Make(FailureKind.Auth, integration: "email"));

        Assert.Equal(3, (await sink.WaitForAsync(3)).Count);
    }

    [Fact]
    public async Task Publish_SameSinkReachedThroughTwoRegistrations_DeliveredOnce()
    {
        var sink = new RecordingAlertSink();
        var other = new RecordingAlertSink();
        var dispatcher = Create(new AlertOptions(), sink, other, sink);

        dispatcher.Publish(Make());
        await dispatcher.FlushAsync(TestContext.Current.CancellationToken);

        Assert.Single(sink.Alerts);
        Assert.Single(other.Alerts);
    }

    [Fact]
    public async Task Publish_MoreSevereRepeatWithinCooldown_IsSent()
    {
        var sink = new RecordingAlertSink();
        var dispatcher = Create(new AlertOptions(), sink);

        dispatcher.Publish(Make(FailureKind.Unavailable, AlertSeverity.Warning));
        await sink.WaitForAsync(1);
        dispatcher.Publish(Make(FailureKind.Unavailable, AlertSeverity.Critical));

        var alerts = await sink.WaitForAsync(2);
        Assert.Equal(AlertSeverity.Critical, alerts[1].Severity);
    }

    [Fact]
    public async Task Publish_SinkFailed_AlertNotCountedAsSentSoRepeatIsDelivered()
    {
        var flaky = new FlakySink(failures: 1);
        using var failed = Metric("resilient_integrations.alerts.sink_failures");
        var dispatcher = Create(new AlertOptions(), flaky);

        dispatcher.Publish(Make());
        await failed.WaitForMeasurementsAsync(1, Eventually.Deadline);
        dispatcher.Publish(Make());

        var delivered = await flaky.Recorder.WaitForAsync(1);
        Assert.Single(delivered);
        Assert.Equal(0, delivered[0].SuppressedCount);
    }

    [Fact]
    public async Task Publish_ThrowingAndHangingSinks_DoNotStopOtherSinks()
    {
        var good = new RecordingAlertSink();
        var hanging = new GatedSink();
        using var failed = Metric("resilient_integrations.alerts.sink_failures");
        var dispatcher = Create(new AlertOptions { SinkTimeout = TimeSpan.FromSeconds(7) }, new ThrowingSink(), hanging, good);

        Assert.True(dispatcher.Publish(Make(FailureKind.Auth)));
        Assert.True(dispatcher.Publish(Make(FailureKind.QuotaExhausted)));
        await good.WaitForAsync(1);
        await hanging.Started.Task.WaitAsync(Eventually.Deadline, TestContext.Current.CancellationToken);
        _clock.Advance(TimeSpan.FromSeconds(7));

        var alerts = await good.WaitForAsync(2);
        Assert.Equal([FailureKind.Auth, FailureKind.QuotaExhausted], alerts.Select(a => a.Kind));
        await failed.WaitForMeasurementsAsync(3, Eventually.Deadline);
    }

    [Fact]
    public async Task Publish_QueueFull_DropsWithoutBlocking()
    {
        var hanging = new GatedSink();
        using var dropped = Metric("resilient_integrations.alerts.dropped");
        var dispatcher = Create(new AlertOptions { QueueCapacity = 1 }, hanging);

        dispatcher.Publish(Make(FailureKind.Auth));
        await hanging.Started.Task.WaitAsync(Eventually.Deadline, TestContext.Current.CancellationToken);
        bool second = dispatcher.Publish(Make(FailureKind.Timeout));
        bool third = dispatcher.Publish(Make(FailureKind.Unavailable));

        Assert.True(second);
        Assert.False(third);
        Assert.Single(dropped.GetMeasurementSnapshot());
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var d in _disposables)
        {
            await d.DisposeAsync();
        }

        _meters.Dispose();
    }

    private sealed class StaticOptions(AlertOptions value) : IOptionsMonitor<AlertOptions>
    {
        public AlertOptions CurrentValue => value;

        public AlertOptions Get(string? name) => value;

        public IDisposable? OnChange(Action<AlertOptions, string?> listener) => null;
    }

    [Fact]
    public async Task FlushAsync_AlertStillBeingDelivered_CompletesOnlyAfterIt()
    {
        var gate = new GatedSink();
        var dispatcher = Create(new AlertOptions(), gate);
        dispatcher.Publish(Make());
        await gate.Started.Task.WaitAsync(Eventually.Deadline, TestContext.Current.CancellationToken);

        var flush = dispatcher.FlushAsync(TestContext.Current.CancellationToken);
        await Task.Delay(50, TestContext.Current.CancellationToken); // a chance for a wrong early end to show: nothing below waits on it
        Assert.False(flush.IsCompleted);
        gate.Release.TrySetResult();
        await flush.WaitAsync(Eventually.Deadline, TestContext.Current.CancellationToken);

        Assert.Single(gate.Delivered);
    }

    [Fact]
    public async Task FlushAsync_MarkerReachesNoSink()
    {
        var sink = new RecordingAlertSink();
        var dispatcher = Create(new AlertOptions(), sink);
        dispatcher.Publish(Make());

        await dispatcher.FlushAsync(TestContext.Current.CancellationToken);
        await dispatcher.FlushAsync(TestContext.Current.CancellationToken);

        Assert.Single(sink.Alerts);
    }

    [Fact]
    public async Task FlushAsync_DispatcherDisposedMeanwhile_DoesNotWaitForever()
    {
        var dispatcher = Create(new AlertOptions(), new GatedSink());
        dispatcher.Publish(Make());
        var flush = dispatcher.FlushAsync(TestContext.Current.CancellationToken);

        dispatcher.Dispose();

        await flush.WaitAsync(Eventually.Deadline, TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task Publish_AlertOptionsReloadedInvalid_KeepsDeliveringWithTheLastValidOnes()
    {
        var sink = new RecordingAlertSink();
        var options = new ReloadingOptions(new AlertOptions());
        var dispatcher = new AlertDispatcher([sink], options, _clock, new IntegrationMetrics(_meters), NullLoggerFactory.Instance);
        _disposables.Add(dispatcher);
        dispatcher.Publish(Make(FailureKind.Auth));
        await sink.WaitForAsync(1);

        options.Invalid = true;
        dispatcher.Publish(Make(FailureKind.Unavailable));

        Assert.Equal(2, (await sink.WaitForAsync(2)).Count);
    }

    private sealed class ReloadingOptions(AlertOptions value) : IOptionsMonitor<AlertOptions>
    {
        public volatile bool Invalid;

        public AlertOptions CurrentValue => Invalid
            ? throw new OptionsValidationException(Options.DefaultName, typeof(AlertOptions), ["ResilientIntegrations:Alerts:Cooldown must not be negative"])
            : value;

        public AlertOptions Get(string? name) => CurrentValue;

        public IDisposable? OnChange(Action<AlertOptions, string?> listener) => null;
    }

    /// <summary>A sink that blocks, ignoring its token, until released; never released, it hangs.</summary>
    private sealed class GatedSink : IAlertSink
    {
        public TaskCompletionSource Started { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource Release { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public System.Collections.Concurrent.ConcurrentQueue<Alert> Delivered { get; } = new();

        public async ValueTask SendAsync(Alert alert, CancellationToken cancellationToken)
        {
            Started.TrySetResult();
            await Release.Task;
            Delivered.Enqueue(alert);
        }
    }

    private sealed class ThrowingSink : IAlertSink
    {
        public ValueTask SendAsync(Alert alert, CancellationToken cancellationToken) => throw new InvalidOperationException("sink down");
    }

    private sealed class FlakySink(int failures) : IAlertSink
    {
        private int _left = failures;

        public RecordingAlertSink Recorder { get; } = new();

        public ValueTask SendAsync(Alert alert, CancellationToken cancellationToken) =>
            Interlocked.Decrement(ref _left) >= 0 ? throw new HttpRequestException("503 from chat") : Recorder.SendAsync(alert, cancellationToken);
    }
}
