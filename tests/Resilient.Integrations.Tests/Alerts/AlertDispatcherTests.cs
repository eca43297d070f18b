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

    /// <summary>What the health layer publishes when an integration turns Red or Yellow.</summary>
    private static Alert Health(FailureKind kind, AlertSeverity severity, string integration = "crm") => new()
    {
        Integration = integration,
        Severity = severity,
        Kind = kind,
        Message = $"is {(severity == AlertSeverity.Critical ? "Red" : "Yellow")}: {kind}",
        HealthChange = true,
    };

    /// <summary>What the health layer publishes when an integration is back to Green.</summary>
    private static Alert BackToGreen(string integration = "crm") => new()
    {
        Integration = integration,
        Severity = AlertSeverity.Info,
        Message = "recovered after less than a minute",
        HealthChange = true,
        Recovery = true,
        Details = new Dictionary<string, string>(StringComparer.Ordinal) { ["health"] = "Red -> Green" },
    };

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>Sends one alert, then repeats it within the cooldown until the repeats are counted as suppressed.</summary>
    private static async Task SendThenRepeatAsync(AlertDispatcher dispatcher, RecordingAlertSink sink, MetricCollector<long> suppressed, int repeats)
    {
        dispatcher.Publish(Make());
        await sink.WaitForAsync(1);
        for (int i = 0; i < repeats; i++)
        {
            dispatcher.Publish(Make());
        }

        await suppressed.WaitForMeasurementsAsync(repeats, TimeSpan.FromSeconds(5));
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
        await dispatcher.FlushAsync(Ct); // everything published delivered: an extra alert would show
        var alerts = sink.Alerts;

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

        await dispatcher.FlushAsync(Ct);
        Assert.Equal(2, sink.Alerts.Count);
    }

    [Fact]
    public async Task Publish_DifferentKindsOrIntegrations_NotSuppressed()
    {
        var sink = new RecordingAlertSink();
        var dispatcher = Create(new AlertOptions(), sink);

        dispatcher.Publish(Make(FailureKind.Auth));
        dispatcher.Publish(Make(FailureKind.QuotaExhausted));
        dispatcher.Publish(Make(FailureKind.Auth, integration: "email"));

        await dispatcher.FlushAsync(Ct);
        Assert.Equal(3, sink.Alerts.Count);
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

        await dispatcher.FlushAsync(Ct); // everything published delivered: an extra alert would show
        var alerts = sink.Alerts;
        Assert.Equal(AlertSeverity.Critical, alerts[1].Severity);
    }

    [Fact]
    public async Task Publish_HealthFlapsBetweenGreenRedAndYellowWithinSettleTime_OneAlertPerKindAndNoRecoveredNotice()
    {
        var sink = new RecordingAlertSink();
        using var suppressed = Metric("resilient_integrations.alerts.suppressed");
        var dispatcher = Create(new AlertOptions(), sink);

        // 50 rounds of Red, Green, Yellow, Green, 100 ms apart: 20 s in all, never Green for the settle time.
        for (int i = 0; i < 50; i++)
        {
            foreach (var alert in new[] { Health(FailureKind.Unavailable, AlertSeverity.Critical), BackToGreen(), Health(FailureKind.BadResponse, AlertSeverity.Warning), BackToGreen() })
            {
                dispatcher.Publish(alert);
                _clock.Advance(TimeSpan.FromMilliseconds(100));
            }
        }

        await dispatcher.FlushAsync(Ct);

        Assert.Equal([(FailureKind.Unavailable, AlertSeverity.Critical), (FailureKind.BadResponse, AlertSeverity.Warning)], sink.Alerts.Select(a => (a.Kind, a.Severity)));
        Assert.Equal(98, suppressed.GetMeasurementSnapshot().Sum(m => m.Value));
    }

    [Fact]
    public async Task Publish_RecoveryWithNoLaterTraffic_AnnouncedOnceAfterSettleTimeWithTheEpisodeSuppressedCounts()
    {
        var sink = new RecordingAlertSink();
        var dispatcher = Create(new AlertOptions { SettleTime = TimeSpan.FromMinutes(1) }, sink);
        dispatcher.Publish(Health(FailureKind.Unavailable, AlertSeverity.Critical));
        dispatcher.Publish(Make(FailureKind.Unavailable, AlertSeverity.Warning));
        dispatcher.Publish(Make(FailureKind.Unavailable, AlertSeverity.Warning));
        dispatcher.Publish(Make(FailureKind.BadResponse, AlertSeverity.Warning));
        dispatcher.Publish(Make(FailureKind.BadResponse, AlertSeverity.Warning));
        _clock.Advance(TimeSpan.FromMinutes(3));

        dispatcher.Publish(BackToGreen());
        _clock.Advance(TimeSpan.FromSeconds(59));
        await dispatcher.FlushAsync(Ct);
        Assert.Equal(2, sink.Alerts.Count);                                        // still settling: nothing announced

        _clock.Advance(TimeSpan.FromSeconds(1));                                  // Green for the settle time, no traffic since
        await dispatcher.FlushAsync(Ct);
        _clock.Advance(TimeSpan.FromMinutes(10));
        await dispatcher.FlushAsync(Ct);

        var alerts = sink.Alerts;
        Assert.Equal([AlertSeverity.Critical, AlertSeverity.Warning, AlertSeverity.Info], alerts.Select(a => a.Severity));
        var recovered = alerts[2];
        Assert.Equal(FailureKind.None, recovered.Kind);
        Assert.StartsWith("recovered after 3 minutes", recovered.Message, StringComparison.Ordinal);
        Assert.Equal(3, recovered.SuppressedCount);
        Assert.Equal("BadResponse 1, Unavailable 2", recovered.Details["suppressed"]);
        Assert.Equal("Red -> Green", recovered.Details["health"]);
        Assert.Equal(_clock.GetUtcNow() - TimeSpan.FromMinutes(10), recovered.Time);
    }

    [Fact]
    public async Task Publish_BackToYellowWhileSettling_RecoveryCalledOffAndSettleTimeCountsFromTheNextGreen()
    {
        var sink = new RecordingAlertSink();
        var dispatcher = Create(new AlertOptions(), sink);
        dispatcher.Publish(Health(FailureKind.Unavailable, AlertSeverity.Critical));
        dispatcher.Publish(BackToGreen());
        _clock.Advance(TimeSpan.FromSeconds(40));
        dispatcher.Publish(Health(FailureKind.Unavailable, AlertSeverity.Warning)); // Yellow while settling: a repeat, suppressed
        _clock.Advance(TimeSpan.FromSeconds(30));                                 // past the first Green's settle point
        await dispatcher.FlushAsync(Ct);
        Assert.Single(sink.Alerts);                                               // the recovery was called off
        dispatcher.Publish(BackToGreen());

        _clock.Advance(TimeSpan.FromSeconds(59));                                 // 59 s after the second Green
        await dispatcher.FlushAsync(Ct);
        Assert.Single(sink.Alerts);

        _clock.Advance(TimeSpan.FromSeconds(1));
        await dispatcher.FlushAsync(Ct);
        var alerts = sink.Alerts;
        Assert.Equal([AlertSeverity.Critical, AlertSeverity.Info], alerts.Select(a => a.Severity));
        Assert.Equal(1, alerts[1].SuppressedCount);
    }

    [Fact]
    public async Task Publish_BackToRedWhileSettlingAndStaysRed_NoRecoveredNotice()
    {
        var sink = new RecordingAlertSink();
        var dispatcher = Create(new AlertOptions(), sink);
        dispatcher.Publish(Health(FailureKind.Auth, AlertSeverity.Critical));
        dispatcher.Publish(BackToGreen());
        _clock.Advance(TimeSpan.FromSeconds(30));

        dispatcher.Publish(Health(FailureKind.Auth, AlertSeverity.Critical));      // Red again, and Red it stays
        _clock.Advance(TimeSpan.FromMinutes(10));
        await dispatcher.FlushAsync(Ct);

        Assert.Equal([AlertSeverity.Critical], sink.Alerts.Select(a => a.Severity));
    }

    [Fact]
    public async Task Publish_FailureAlertWithoutHealthChangeWhileSettling_RecoveryStillAnnounced()
    {
        var sink = new RecordingAlertSink();
        var dispatcher = Create(new AlertOptions(), sink);
        dispatcher.Publish(Health(FailureKind.Unavailable, AlertSeverity.Critical));
        dispatcher.Publish(BackToGreen());
        _clock.Advance(TimeSpan.FromSeconds(30));

        dispatcher.Publish(Make(FailureKind.BadResponse, AlertSeverity.Warning)); // one bad call; health stays Green
        _clock.Advance(TimeSpan.FromSeconds(30));
        await dispatcher.FlushAsync(Ct);

        Assert.Equal([AlertSeverity.Critical, AlertSeverity.Warning, AlertSeverity.Info], sink.Alerts.Select(a => a.Severity));
    }

    [Fact]
    public async Task Publish_AfterASettledRecovery_SameKindAlertsAtOnceWithinTheCooldown()
    {
        var sink = new RecordingAlertSink();
        var dispatcher = Create(new AlertOptions(), sink);
        dispatcher.Publish(Health(FailureKind.Unavailable, AlertSeverity.Critical));
        dispatcher.Publish(BackToGreen());
        _clock.Advance(TimeSpan.FromMinutes(1));

        dispatcher.Publish(Health(FailureKind.Unavailable, AlertSeverity.Critical));
        await dispatcher.FlushAsync(Ct);

        Assert.Equal([AlertSeverity.Critical, AlertSeverity.Info, AlertSeverity.Critical], sink.Alerts.Select(a => a.Severity));
        Assert.Equal(0, sink.Alerts[2].SuppressedCount);
    }

    [Fact]
    public async Task Publish_RecoveryWithNoAlertInTheEpisode_NotAnnounced()
    {
        var sink = new RecordingAlertSink();
        var dispatcher = Create(new AlertOptions(), sink);

        dispatcher.Publish(BackToGreen());
        _clock.Advance(TimeSpan.FromMinutes(2));
        await dispatcher.FlushAsync(Ct);

        Assert.Empty(sink.Alerts);
    }

    [Fact]
    public async Task Publish_SettleTimeZero_RecoveryAnnouncedAtOnce()
    {
        var sink = new RecordingAlertSink();
        var dispatcher = Create(new AlertOptions { SettleTime = TimeSpan.Zero }, sink);
        dispatcher.Publish(Health(FailureKind.Auth, AlertSeverity.Critical));

        dispatcher.Publish(BackToGreen());
        await dispatcher.FlushAsync(Ct);

        Assert.Equal([AlertSeverity.Critical, AlertSeverity.Info], sink.Alerts.Select(a => a.Severity));
    }

    [Fact]
    public async Task ResetCooldown_RecoverySettling_DroppedUnannouncedAndTheNextAlertStartsAFreshEpisode()
    {
        var sink = new RecordingAlertSink();
        var dispatcher = Create(new AlertOptions(), sink);
        dispatcher.Publish(Health(FailureKind.Auth, AlertSeverity.Critical));
        dispatcher.Publish(BackToGreen());

        dispatcher.ResetCooldown("crm");
        _clock.Advance(TimeSpan.FromMinutes(2));
        dispatcher.Publish(Health(FailureKind.Auth, AlertSeverity.Critical));
        dispatcher.Publish(BackToGreen());
        _clock.Advance(TimeSpan.FromMinutes(1));
        await dispatcher.FlushAsync(Ct);

        var alerts = sink.Alerts;
        Assert.Equal([AlertSeverity.Critical, AlertSeverity.Critical, AlertSeverity.Info], alerts.Select(a => a.Severity));
        Assert.StartsWith("recovered after less than a minute", alerts[2].Message, StringComparison.Ordinal); // the episode began after the reset
    }

    [Fact]
    public async Task Publish_SameKindWithOwnTopic_NotSuppressedByTheOtherTopic()
    {
        var sink = new RecordingAlertSink();
        var dispatcher = Create(new AlertOptions(), sink);
        dispatcher.Publish(Health(FailureKind.Unavailable, AlertSeverity.Critical));

        dispatcher.Publish(new Alert { Integration = "crm", Severity = AlertSeverity.Critical, Kind = FailureKind.Unavailable, Message = "circuit opened", Topic = "circuit" });
        dispatcher.Publish(new Alert { Integration = "crm", Severity = AlertSeverity.Critical, Kind = FailureKind.Unavailable, Message = "circuit opened", Topic = "circuit" });
        await dispatcher.FlushAsync(Ct);

        Assert.Equal(["is Red: Unavailable", "circuit opened"], sink.Alerts.Select(a => a.Message));
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
        await gate.Started.Task.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);

        var flush = dispatcher.FlushAsync(TestContext.Current.CancellationToken);
        await Task.Delay(50, TestContext.Current.CancellationToken);
        Assert.False(flush.IsCompleted);
        gate.Release.TrySetResult();
        await flush.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);

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

        await flush.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
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

        await dispatcher.FlushAsync(Ct);
        Assert.Equal(2, sink.Alerts.Count);
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
}
