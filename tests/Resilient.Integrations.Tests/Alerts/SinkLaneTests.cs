using System.Collections.Concurrent;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Resilient.Integrations.Alerts;
using Resilient.Integrations.Alerts.Internal;
using Resilient.Integrations.Classification;
using Resilient.Integrations.Telemetry.Internal;
using Resilient.Integrations.Tests.Support;

namespace Resilient.Integrations.Tests.Alerts;

/// <summary>Each sink has its own queue and loop: a hanging, blocking or failing sink delays no other sink.</summary>
public sealed class SinkLaneTests : IAsyncDisposable
{
    /// <summary>A real-time bound that only guards against a hang; nothing here should come near it.</summary>
    private static readonly TimeSpan HangGuard = TimeSpan.FromSeconds(10);

    private readonly TestClock _clock = new(new DateTimeOffset(2026, 11, 23, 6, 0, 0, TimeSpan.Zero));
    private readonly List<IAsyncDisposable> _disposables = [];
    private readonly TestMeterFactory _meters = new();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static Alert Make(FailureKind kind = FailureKind.Auth, AlertSeverity severity = AlertSeverity.Critical, string integration = "crm") => new()
    {
        Integration = integration,
        Severity = severity,
        Kind = kind,
        Message = $"{kind} failure",
    };

    private AlertDispatcher Create(AlertOptions options, params IAlertSink[] sinks) => Create(options, TimeProvider.System, sinks);

    private AlertDispatcher Create(AlertOptions options, TimeProvider sinkTime, params IAlertSink[] sinks)
    {
        var dispatcher = new AlertDispatcher(sinks, new StaticOptions(options), _clock, new IntegrationMetrics(_meters), NullLoggerFactory.Instance) { SinkTime = sinkTime };
        _disposables.Add(dispatcher);
        return dispatcher;
    }

    private MetricCollector<long> Metric(string name) => new(_meters, IntegrationMetrics.MeterName, name);

    [Fact]
    public async Task Publish_HangingAndThreadBlockingSinksBesideAGoodOne_GoodGetsANewCriticalWhileTheyStillHoldTheirFirst()
    {
        var hanging = new GatedSink();
        using var blocking = new ThreadBlockingSink();
        using var alsoBlocking = new ThreadBlockingSink();
        var good = new RecordingAlertSink();
        var dispatcher = Create(new AlertOptions(), hanging, blocking, alsoBlocking, good);

        // A backlog: a different alert for each of 300 integrations, which a serial drain would make wait behind
        // the hanging sink's timeout, 300 times over.
        for (int i = 0; i < 300; i++)
        {
            dispatcher.Publish(Make(FailureKind.BadResponse, AlertSeverity.Warning, $"api{i}"));
        }

        await hanging.Started.Task.WaitAsync(HangGuard, Ct);
        Assert.True(blocking.Entered.Wait(HangGuard, Ct));
        Assert.True(alsoBlocking.Entered.Wait(HangGuard, Ct));

        dispatcher.Publish(Make(FailureKind.Auth, AlertSeverity.Critical, "billing"));
        var alerts = await good.WaitForAsync(301);

        Assert.Equal(301, alerts.Count);
        Assert.Equal(("billing", AlertSeverity.Critical), (alerts[^1].Integration, alerts[^1].Severity));
        Assert.False(hanging.Release.Task.IsCompleted);                             // the hanging sink still holds its first alert
        Assert.Equal(0, blocking.Returned + alsoBlocking.Returned);                 // and so do the blocking ones,
        Assert.False(blocking.BlockedAPoolThread || alsoBlocking.BlockedAPoolThread); // each on a thread of its own
        Assert.Equal([1, 1, 1], new[] { hanging.Calls, blocking.Calls, alsoBlocking.Calls }); // never called again meanwhile
    }

    [Fact]
    public async Task FlushAsync_SinkStuckInACallGivenUpOn_CompletesWithoutWaitingAgainAndSinkGetsASummaryWhenBack()
    {
        var hanging = new GatedSink();
        var good = new RecordingAlertSink();
        using var dropped = Metric("resilient_integrations.alerts.dropped");
        // The sink timeout runs on a clock of its own (real time in production): this one moves only for the hang.
        var sinkTime = new TestClock(_clock.GetUtcNow());
        var dispatcher = Create(new AlertOptions { SinkTimeout = TimeSpan.FromSeconds(7) }, sinkTime, hanging, good);
        dispatcher.Publish(Make(FailureKind.Auth));
        await hanging.Started.Task.WaitAsync(HangGuard, Ct);
        var first = dispatcher.FlushAsync(Ct);
        Assert.False(first.IsCompleted);

        await Eventually.WaitUntilAsync(() => good.Alerts.Count == 1);             // the good sink's call is over: only the hanging one is timed
        sinkTime.Advance(TimeSpan.FromSeconds(7));                                  // the sink timeout: given up on, still running
        await first.WaitAsync(HangGuard, Ct);
        dispatcher.Publish(Make(FailureKind.QuotaExhausted));
        dispatcher.Publish(Make(FailureKind.BadResponse, AlertSeverity.Warning));
        await dispatcher.FlushAsync(Ct).WaitAsync(HangGuard, Ct);                   // no time passed: not waited for again

        Assert.Equal(1, hanging.Calls);
        Assert.Equal(3, good.Alerts.Count);
        Assert.All(dropped.GetMeasurementSnapshot(), m => Assert.Equal("sink_unavailable", m.Tags["reason"]));
        Assert.Equal(2, dropped.GetMeasurementSnapshot().Count);

        hanging.Release.TrySetResult();                                             // the stuck call returns at last
        _clock.Advance(TimeSpan.FromSeconds(1));                                    // and the backoff is over
        await Eventually.WaitUntilAsync(() => hanging.Delivered.Count == 2);
        var summary = hanging.Delivered.Last();
        Assert.Equal(AlertSeverity.Critical, summary.Severity);
        Assert.Contains("missed 3 alerts", summary.Message, StringComparison.Ordinal);
        Assert.Equal("Auth/Critical 1, QuotaExhausted/Critical 1, BadResponse/Warning 1", summary.Details["missed_by_kind"]);
        Assert.Equal(3, good.Alerts.Count);                                         // the summary is the failing sink's alone
    }

    [Fact]
    public async Task Publish_SinkKeepsFailing_BackedOffExponentiallyThenOneSummaryOfWhatItMissed()
    {
        var flaky = new FlakySink(_clock, failures: 2);
        var good = new RecordingAlertSink();
        using var failures = Metric("resilient_integrations.alerts.sink_failures");
        var dispatcher = Create(new AlertOptions(), flaky, good);
        var start = _clock.GetUtcNow();

        dispatcher.Publish(Make(FailureKind.Auth));                                 // fails: backed off for 1 s
        await Eventually.WaitUntilAsync(() => flaky.Calls.Count == 1 && _clock.HasWatchdogArmedFor(TimeSpan.FromSeconds(1)));
        dispatcher.Publish(Make(FailureKind.QuotaExhausted));
        dispatcher.Publish(Make(FailureKind.BadResponse, AlertSeverity.Warning));
        await dispatcher.FlushAsync(Ct).WaitAsync(HangGuard, Ct);                   // given up on at once, for the summary
        Assert.Single(flaky.Calls);
        Assert.Equal(3, good.Alerts.Count);

        _clock.Advance(TimeSpan.FromSeconds(1));                                    // the summary fails too: 2 s this time
        await Eventually.WaitUntilAsync(() => flaky.Calls.Count == 2 && _clock.HasWatchdogArmedFor(TimeSpan.FromSeconds(2)));
        _clock.Advance(TimeSpan.FromSeconds(2));
        var delivered = await flaky.Recorder.WaitForAsync(1);

        Assert.Equal([start, start.AddSeconds(1), start.AddSeconds(3)], flaky.Calls);
        var summary = Assert.Single(delivered);
        Assert.Equal(AlertSeverity.Critical, summary.Severity);
        Assert.Equal("crm", summary.Integration);
        Assert.Equal("3", summary.Details["missed"]);
        Assert.Equal("Auth/Critical 1, QuotaExhausted/Critical 1, BadResponse/Warning 1", summary.Details["missed_by_kind"]);
        Assert.Equal([("crm", "FlakySink"), ("crm", "FlakySink")], failures.GetMeasurementSnapshot().Select(m => ((string)m.Tags["integration"]!, (string)m.Tags["sink"]!)));
    }

    [Fact]
    public async Task Publish_QueueFull_DropsTheOldestCountsItAndTheSinkGetsItInASummary()
    {
        var gated = new GatedSink();
        using var dropped = Metric("resilient_integrations.alerts.dropped");
        var dispatcher = Create(new AlertOptions { QueueCapacity = 1 }, gated);
        dispatcher.Publish(Make(FailureKind.Auth));
        await gated.Started.Task.WaitAsync(HangGuard, Ct);

        bool second = dispatcher.Publish(Make(FailureKind.Timeout, AlertSeverity.Warning));
        bool third = dispatcher.Publish(Make(FailureKind.Unavailable, AlertSeverity.Warning));
        var measurement = Assert.Single(dropped.GetMeasurementSnapshot());
        gated.Release.TrySetResult();
        await dispatcher.FlushAsync(Ct).WaitAsync(HangGuard, Ct);

        Assert.True(second && third);
        Assert.Equal(("queue_full", "GatedSink"), ((string)measurement.Tags["reason"]!, (string)measurement.Tags["sink"]!));
        var delivered = gated.Delivered.ToList();
        Assert.Equal(3, delivered.Count);
        Assert.Equal(FailureKind.Auth, delivered[0].Kind);
        Assert.Equal("Timeout/Warning 1", delivered[1].Details["missed_by_kind"]);
        Assert.Equal(FailureKind.Unavailable, delivered[2].Kind);
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

    /// <summary>Holds its first alert, ignoring its token, until released; later alerts go through at once.</summary>
    private sealed class GatedSink : IAlertSink
    {
        private int _calls;

        public TaskCompletionSource Started { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource Release { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public ConcurrentQueue<Alert> Delivered { get; } = new();

        public int Calls => Volatile.Read(ref _calls);

        public async ValueTask SendAsync(Alert alert, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _calls);
            Started.TrySetResult();
            await Release.Task;
            Delivered.Enqueue(alert);
        }
    }

    /// <summary>Blocks its thread, before any await and ignoring its token, until disposed: the worst a sink can do.</summary>
    private sealed class ThreadBlockingSink : IAlertSink, IDisposable
    {
        private readonly ManualResetEventSlim _release = new();
        private int _calls;
        private int _returned;

        public ManualResetEventSlim Entered { get; } = new();

        public int Calls => Volatile.Read(ref _calls);

        public int Returned => Volatile.Read(ref _returned);

        /// <summary>Gets whether it blocked one of the pool's threads, which the dispatcher's loops need.</summary>
        public bool BlockedAPoolThread { get; private set; }

        public ValueTask SendAsync(Alert alert, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _calls);
            BlockedAPoolThread |= Thread.CurrentThread.IsThreadPoolThread;
            Entered.Set();
            _release.Wait();
            Interlocked.Increment(ref _returned);
            return ValueTask.CompletedTask;
        }

        public void Dispose() => _release.Set();
    }

    /// <summary>Fails its first calls, then delivers; records when it was called.</summary>
    private sealed class FlakySink(TimeProvider time, int failures) : IAlertSink
    {
        private readonly ConcurrentQueue<DateTimeOffset> _calls = new();
        private int _left = failures;

        public IReadOnlyList<DateTimeOffset> Calls => [.. _calls];

        public RecordingAlertSink Recorder { get; } = new();

        public ValueTask SendAsync(Alert alert, CancellationToken cancellationToken)
        {
            _calls.Enqueue(time.GetUtcNow());
            return Interlocked.Decrement(ref _left) >= 0 ? throw new HttpRequestException("503 from chat") : Recorder.SendAsync(alert, cancellationToken);
        }
    }
}
